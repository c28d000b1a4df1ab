//! Persisted state: a [`GreetStore`] (the state between greetings) as
//! bytes, and back.
//!
//! Format version 1: a JSON object, every byte string lowercase hex:
//! `version`, `state` (`"ready"` or `"null"`), `id`, `static_seed`,
//! `members`, `int_keys` (empty string: none), `priv_keys` (CLIQUES private
//! keys in draw order), `group_key`, `nonces`, `ephemeral_pub_keys`,
//! `ephemeral_seed`, `nonce`, `session_id` (empty string: none). Only
//! stores between greetings are persisted (as in mpenc_js, whose
//! `GreetStore` exists only in NULL or READY). The bytes hold secrets:
//! they are returned in a zeroizing buffer.

use serde::{Deserialize, Serialize};
use sgm_crypto::{Secret, SecretBytes, SigningKey, X25519PublicKey, X25519SecretKey};

use crate::aske::AskeMember;
use crate::cliques::CliquesMember;
use crate::greeter::{GreetState, GreetStore};
use crate::{ApiMisuse, MpencError};

/// Format version of the persisted state.
pub const STATE_VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct Stored {
    version: u32,
    state: String,
    id: String,
    static_seed: String,
    members: Vec<String>,
    int_keys: Vec<String>,
    priv_keys: Vec<String>,
    group_key: String,
    nonces: Vec<String>,
    ephemeral_pub_keys: Vec<String>,
    ephemeral_seed: String,
    nonce: String,
    session_id: String,
}

fn opt_hex(v: Option<&[u8]>) -> String {
    v.map(hex::encode).unwrap_or_default()
}

fn bytes(s: &str) -> Result<Vec<u8>, MpencError> {
    hex::decode(s).map_err(|_| MpencError::BadState("not hex"))
}

fn arr<const N: usize>(s: &str, field: &'static str) -> Result<[u8; N], MpencError> {
    let v = bytes(s)?;
    v.as_slice().try_into().map_err(|_| MpencError::BadLength {
        field,
        expected: N,
        actual: v.len(),
    })
}

fn opt_arr<const N: usize>(s: &str, field: &'static str) -> Result<Option<[u8; N]>, MpencError> {
    if s.is_empty() {
        Ok(None)
    } else {
        arr(s, field).map(Some)
    }
}

impl GreetStore {
    /// The persisted form.
    pub fn to_bytes(&self) -> Result<SecretBytes, MpencError> {
        let state = match self.state {
            GreetState::Ready => "ready",
            GreetState::Null => "null",
            _ => return Err(ApiMisuse::WrongState("greeting in progress").into()),
        };
        let c = &self.cliques;
        let a = &self.aske;
        let stored = Stored {
            version: STATE_VERSION,
            state: state.into(),
            id: hex::encode(a.id()),
            static_seed: hex::encode(a.static_signing_key().to_seed().expose_secret()),
            members: a.members().iter().map(hex::encode).collect(),
            int_keys: c
                .int_keys()
                .iter()
                .map(|k| opt_hex(k.as_ref().map(|k| &k.as_bytes()[..])))
                .collect(),
            priv_keys: c
                .priv_keys()
                .iter()
                .map(|k| hex::encode(k.expose_secret()))
                .collect(),
            group_key: opt_hex(c.group_key().map(|k| &k.expose_secret()[..])),
            nonces: a.nonces().iter().map(hex::encode).collect(),
            ephemeral_pub_keys: a.ephemeral_pub_keys().iter().map(hex::encode).collect(),
            ephemeral_seed: opt_hex(
                a.ephemeral_key()
                    .map(|k| k.to_seed().expose_secret().to_vec())
                    .as_deref(),
            ),
            nonce: opt_hex(a.nonce().map(|n| &n[..])),
            session_id: opt_hex(a.session_id().map(|n| &n[..])),
        };
        serde_json::to_vec(&stored)
            .map(SecretBytes::new)
            .map_err(|_| ApiMisuse::WrongState("unserializable").into())
    }

    /// Restores a persisted store.
    pub fn from_bytes(input: &[u8]) -> Result<Self, MpencError> {
        let s: Stored = serde_json::from_slice(input)
            .map_err(|_| MpencError::BadState("not the state format"))?;
        if s.version != STATE_VERSION {
            return Err(MpencError::BadState("unknown version"));
        }
        let state = match s.state.as_str() {
            "ready" => GreetState::Ready,
            "null" => GreetState::Null,
            _ => return Err(MpencError::BadState("unknown greeting state")),
        };
        let id = bytes(&s.id)?;
        let static_key =
            SigningKey::from_seed(&Secret::from_bytes(arr(&s.static_seed, "static seed")?));
        let members = s
            .members
            .iter()
            .map(|m| bytes(m))
            .collect::<Result<Vec<_>, _>>()?;
        crate::cliques::check_members(&members)?;
        let int_keys = s
            .int_keys
            .iter()
            .map(|k| {
                opt_arr::<32>(k, "intermediate key").map(|k| k.map(X25519PublicKey::from_bytes))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let priv_keys = s
            .priv_keys
            .iter()
            .map(|k| {
                arr::<32>(k, "private key")
                    .map(|k| X25519SecretKey::from_secret(Secret::from_bytes(k)))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let group_key = opt_arr::<32>(&s.group_key, "group key")?.map(Secret::from_bytes);
        let nonces = s
            .nonces
            .iter()
            .map(|n| arr::<32>(n, "nonce"))
            .collect::<Result<Vec<_>, _>>()?;
        let pubs = s
            .ephemeral_pub_keys
            .iter()
            .map(|n| arr::<32>(n, "public key"))
            .collect::<Result<Vec<_>, _>>()?;
        let eph = opt_arr::<32>(&s.ephemeral_seed, "ephemeral seed")?
            .map(|k| SigningKey::from_seed(&Secret::from_bytes(k)));
        let cliques =
            CliquesMember::from_parts(id.clone(), members.clone(), int_keys, priv_keys, group_key);
        let aske = AskeMember::from_parts(
            id,
            static_key,
            members,
            nonces,
            pubs,
            eph,
            opt_arr(&s.nonce, "nonce")?,
            opt_arr(&s.session_id, "session id")?,
        );
        Ok(GreetStore {
            cliques,
            aske,
            state,
        })
    }
}
