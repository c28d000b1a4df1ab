//! The interface every group scheme implements ([`GroupScheme`]) and the
//! messages it hands the driver.

use sgm_crypto::{CryptoRng, MemberId};

/// Who a message goes to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// One message for every listed member (not the sender): a broadcast,
    /// counted once, as the DCGKA paper counts it.
    Broadcast(Vec<MemberId>),
    /// A message for one member over a pairwise channel.
    Unicast(MemberId),
}

/// What a message is for (counted separately by the driver).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MessageKind {
    /// Key agreement, membership, key distribution, acks.
    Control,
    /// An encrypted application message.
    Application,
}

/// One message a scheme produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// The member that sent it.
    pub sender: MemberId,
    /// Control or application.
    pub kind: MessageKind,
    /// Its recipients.
    pub delivery: Delivery,
    /// What every recipient receives.
    pub body: Vec<u8>,
    /// Parts riding with a broadcast that only their recipient receives
    /// (DCGKA's direct messages); each is counted once.
    pub direct: Vec<(MemberId, Vec<u8>)>,
}

impl Message {
    /// A broadcast without direct parts.
    pub fn broadcast(
        sender: MemberId,
        kind: MessageKind,
        to: impl IntoIterator<Item = MemberId>,
        body: Vec<u8>,
    ) -> Self {
        Self {
            sender,
            kind,
            delivery: Delivery::Broadcast(to.into_iter().filter(|m| *m != sender).collect()),
            body,
            direct: Vec::new(),
        }
    }

    /// A message for one member.
    pub fn unicast(sender: MemberId, kind: MessageKind, to: MemberId, body: Vec<u8>) -> Self {
        Self {
            sender,
            kind,
            delivery: Delivery::Unicast(to),
            body,
            direct: Vec::new(),
        }
    }

    /// Its recipients, in order.
    pub fn recipients(&self) -> &[MemberId] {
        match &self.delivery {
            Delivery::Broadcast(to) => to,
            Delivery::Unicast(to) => std::slice::from_ref(to),
        }
    }

    /// Bytes as the paper counts them: the body once, plus every direct part.
    pub fn bytes(&self) -> usize {
        self.body.len() + self.direct.iter().map(|(_, d)| d.len()).sum::<usize>()
    }

    /// The direct part for `member`, if any.
    pub fn direct_for(&self, member: &MemberId) -> Option<&[u8]> {
        self.direct
            .iter()
            .find(|(m, _)| m == member)
            .map(|(_, d)| d.as_slice())
    }

    /// Bytes `member` receives: the body and its direct part.
    pub fn bytes_for(&self, member: &MemberId) -> usize {
        self.body.len() + self.direct_for(member).map_or(0, <[u8]>::len)
    }

    /// What `member` is handed.
    pub fn incoming_for(&self, member: &MemberId) -> Incoming<'_> {
        Incoming {
            sender: self.sender,
            kind: self.kind,
            body: &self.body,
            direct: self.direct_for(member),
        }
    }
}

/// A message as one recipient receives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Incoming<'a> {
    /// The sender the transport names (authenticated by the layer below
    /// where the scheme assumes it, as DCGKA assumes sgm-acb).
    pub sender: MemberId,
    /// Control or application.
    pub kind: MessageKind,
    /// The body.
    pub body: &'a [u8],
    /// This recipient's direct part.
    pub direct: Option<&'a [u8]>,
}

/// What processing one message gave.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Processed {
    /// Messages sent in response (acks, key distributions, greeting steps).
    pub replies: Vec<Message>,
    /// The plaintext, for an application message.
    pub plaintext: Option<Vec<u8>>,
    /// Whether key material this member encrypts or decrypts with changed
    /// (the driver's "rounds until everyone has the new key").
    pub key_changed: bool,
    /// Whether this member learnt that it was removed.
    pub removed: bool,
}

/// What a scheme needs from the network.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// Every recipient must receive messages in one total order (a server
    /// that sequences the group's messages; mpENC). Without it the driver
    /// only keeps causal order.
    pub total_order: bool,
    /// The sender receives its own broadcasts back, in their place in the
    /// total order (a server echo).
    pub echo: bool,
}

/// One group scheme behind one interface.
///
/// `Self` is what the members share outside the group: the public key
/// infrastructure (prekey server, identity directory), and the scheme's
/// options. [`Self::Member`] is one member's whole state: a plain value, so
/// that a driver can copy a member and replay its part (benchmarks), or keep
/// a stolen copy (tests).
///
/// Every operation returns the messages it produced; the driver delivers
/// each to its recipients with [`Self::receive`].
pub trait GroupScheme {
    /// One member's state.
    type Member: Clone;
    /// The scheme's error.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Short name for tables ("dcgka", "sender-keys", ...).
    fn name(&self) -> &'static str;

    /// What the scheme needs from the network.
    fn capabilities(&self) -> Capabilities {
        Capabilities::default()
    }

    /// A new member, not yet in a group (it publishes its prekeys in `self`).
    fn new_member(&mut self, rng: &mut impl CryptoRng) -> Result<Self::Member, Self::Error>;

    /// A member's id.
    fn member_id(&self, member: &Self::Member) -> MemberId;

    /// `member` creates a group with `others`.
    fn create(
        &mut self,
        member: &mut Self::Member,
        others: &[MemberId],
        rng: &mut impl CryptoRng,
    ) -> Result<Vec<Message>, Self::Error>;

    /// `member` adds `added`.
    fn add(
        &mut self,
        member: &mut Self::Member,
        added: MemberId,
        rng: &mut impl CryptoRng,
    ) -> Result<Vec<Message>, Self::Error>;

    /// `member` removes `removed`.
    fn remove(
        &mut self,
        member: &mut Self::Member,
        removed: MemberId,
        rng: &mut impl CryptoRng,
    ) -> Result<Vec<Message>, Self::Error>;

    /// `member` starts a post-compromise-security update.
    fn update(
        &mut self,
        member: &mut Self::Member,
        rng: &mut impl CryptoRng,
    ) -> Result<Vec<Message>, Self::Error>;

    /// `member` sends an application message.
    fn send(
        &mut self,
        member: &mut Self::Member,
        plaintext: &[u8],
        rng: &mut impl CryptoRng,
    ) -> Result<Vec<Message>, Self::Error>;

    /// `member` processes a message it received.
    fn receive(
        &mut self,
        member: &mut Self::Member,
        message: &Incoming<'_>,
        rng: &mut impl CryptoRng,
    ) -> Result<Processed, Self::Error>;
}
