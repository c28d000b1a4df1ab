//! `encrypt-to` and `decrypt-from` (Figure 4): 2SM sessions created on
//! first use in either direction.
//!
//! First contacts use [`InitiatorAuth::Transport`]: DCGKA takes every
//! message's sender as authenticated by the layer below (§5.1; sgm-acb
//! signs every envelope, direct parts included), and 2SM binds that sender
//! into each ciphertext's associated data, so an identity signature inside
//! the first 2SM message would only repeat the envelope's (66 bytes per
//! member in a create).

use sgm_2sm::{InitiatorAuth, PrekeyBundle, Session};
use sgm_crypto::{CryptoRng, MemberId, SecretBytes};

use crate::error::{DcgkaError, Result};
use crate::state::Dcgka;

/// The PKI of the paper's 2SM-Init: hands out a peer's prekey bundle (one
/// one-time prekey per fetch).
pub trait PrekeyDirectory {
    /// A bundle for `member`, or `None` if it has none left or is unknown.
    fn fetch(&mut self, member: &MemberId) -> Option<PrekeyBundle>;
}

fn two_party_error(peer: &MemberId, e: sgm_2sm::TwoSmError) -> DcgkaError {
    DcgkaError::TwoParty {
        peer: *peer,
        source: e,
    }
}

impl Dcgka {
    /// `encrypt-to(γ, ID, m)`: 2SM-Send on the session with `peer`, starting
    /// it from the peer's prekey bundle if there is none.
    pub(crate) fn encrypt_to(
        &mut self,
        peer: &MemberId,
        plaintext: &[u8],
        rng: &mut impl CryptoRng,
        directory: &mut dyn PrekeyDirectory,
    ) -> Result<Vec<u8>> {
        if !self.sessions.contains_key(peer) {
            let bundle = directory
                .fetch(peer)
                .ok_or(DcgkaError::NoPrekeyBundle(*peer))?
                .verify(peer)
                .map_err(|e| two_party_error(peer, e))?;
            let session = Session::initiate_with(&self.identity, &bundle, InitiatorAuth::Transport)
                .map_err(|e| two_party_error(peer, e))?;
            self.sessions.insert(*peer, session);
        }
        let session = self
            .sessions
            .get_mut(peer)
            .ok_or(DcgkaError::UnknownReference("2SM session"))?;
        session
            .send(rng, plaintext)
            .map_err(|e| two_party_error(peer, e))
    }

    /// `decrypt-from(γ, ID, c)`: 2SM-Receive, accepting a first-contact
    /// message through the local prekey store if there is no session.
    pub(crate) fn decrypt_from(
        &mut self,
        peer: &MemberId,
        ciphertext: &[u8],
    ) -> Result<SecretBytes> {
        match self.sessions.get_mut(peer) {
            Some(session) => session
                .receive(&mut self.prekeys, ciphertext)
                .map_err(|e| two_party_error(peer, e)),
            None => {
                let (session, plaintext) = Session::accept_with(
                    &mut self.prekeys,
                    peer,
                    ciphertext,
                    InitiatorAuth::Transport,
                )
                .map_err(|e| two_party_error(peer, e))?;
                self.sessions.insert(*peer, session);
                Ok(plaintext)
            }
        }
    }
}
