//! Persistence: the whole group state as one versioned value.
//!
//! ```text
//! state = version (1 byte, = STATE_VERSION) ‖ StatePb {
//!   1: user (string)          2: group id (16 bytes, absent before joining)
//!   3: ACB state (sgm-acb)    4: DCGKA state (sgm-dcgka: DGM, 2SM, ratchets)
//!   5: book (JSON: member cards, causal summaries, transcript, delivery
//!      tracking, §7 set, epoch ages, membership ops with their sender and
//!      ACB seq, recent removals; not the parked unverified packets, nor the
//!      sync-request stamps: those are kept in memory only)
//!   6: config (JSON) }
//! ```
//! The bytes hold every secret of the member; they are returned as
//! zeroizing [`SecretBytes`].

use prost::Message;
use sgm_acb::Acb;
use sgm_crypto::SecretBytes;
use sgm_dcgka::Dcgka;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::book::Book;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::group::Group;
use crate::ids::{GROUP_ID_LEN, GroupId, UserId};

/// Version byte of the persisted state.
pub const STATE_VERSION: u8 = 2;

#[derive(Clone, PartialEq, Message, Zeroize, ZeroizeOnDrop)]
struct StatePb {
    #[prost(string, tag = "1")]
    user: String,
    #[prost(bytes = "vec", tag = "2")]
    group: Vec<u8>,
    #[prost(bytes = "vec", tag = "3")]
    acb: Vec<u8>,
    #[prost(bytes = "vec", tag = "4")]
    dcgka: Vec<u8>,
    #[prost(bytes = "vec", tag = "5")]
    book: Vec<u8>,
    #[prost(bytes = "vec", tag = "6")]
    config: Vec<u8>,
}

impl Group {
    /// The whole state, versioned. Every action returns it too
    /// ([`crate::Output::state`]).
    pub fn to_bytes(&self) -> SecretBytes {
        let pb = StatePb {
            user: self.user.0.clone(),
            group: self.group_id.map(|g| g.0.to_vec()).unwrap_or_default(),
            acb: self.acb.to_state_bytes().expose_secret().to_vec(),
            dcgka: self.dcgka.to_bytes().expose_secret().to_vec(),
            book: serde_json::to_vec(&self.book).unwrap_or_default(),
            config: serde_json::to_vec(&self.config).unwrap_or_default(),
        };
        let mut out = Vec::with_capacity(pb.encoded_len() + 1);
        out.push(STATE_VERSION);
        let mut body = pb.encode_to_vec();
        out.extend_from_slice(&body);
        body.zeroize();
        SecretBytes::new(out)
    }

    /// Restores a state written by [`Group::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let (&version, body) = bytes.split_first().ok_or(Error::State("empty"))?;
        if version != STATE_VERSION {
            return Err(Error::UnsupportedVersion(version));
        }
        let pb = StatePb::decode(body).map_err(|_| Error::State("not a state encoding"))?;
        let config: Config =
            serde_json::from_slice(&pb.config).map_err(|_| Error::State("config"))?;
        let mut book: Book = serde_json::from_slice(&pb.book).map_err(|_| Error::State("book"))?;
        book.reindex();
        let group_id = if pb.group.is_empty() {
            None
        } else {
            let g: [u8; GROUP_ID_LEN] = pb
                .group
                .as_slice()
                .try_into()
                .map_err(|_| Error::State("group id"))?;
            Some(GroupId(g))
        };
        let acb = Acb::restore(
            &pb.acb,
            crate::config::acb_config(&config, book.cards.len()),
        )?;
        let dcgka = Dcgka::from_bytes(&pb.dcgka)?;
        if acb.me() != dcgka.id() {
            return Err(Error::State("layers disagree on the member id"));
        }
        Ok(Self {
            config,
            user: UserId(pb.user.clone()),
            group_id,
            acb,
            dcgka,
            book,
            // The application sets its own again (not persisted).
            validator: crate::credential::default_validator(),
        })
    }
}
