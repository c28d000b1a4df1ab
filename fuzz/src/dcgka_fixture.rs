//! A DCGKA group of three (`sgm_dcgka::scenario`, fixed seed) after create
//! and every ack, with the messages of an update, a remove and an add
//! recorded but not delivered to member 1 or to the spare.

use std::sync::OnceLock;

use sgm_crypto::MemberId;
use sgm_dcgka::scenario::{Directory, Operation, Scenario};
use sgm_dcgka::{Config, Dcgka, Outgoing};

/// The fixture: states to feed messages to, and the recorded messages.
pub struct DcgkaFixture {
    /// Member 1: in the group, has not seen the recorded rounds.
    pub member: Dcgka,
    /// The spare: not in the group; the add round welcomes it.
    pub spare: Dcgka,
    /// Every member id, the spare last.
    pub ids: Vec<MemberId>,
    /// Everyone's prekeys.
    pub directory: Directory,
    /// Recorded (sender index into `ids`, control, direct) in the
    /// [`frame`] format: what the `dcgka_process` selector feeds.
    pub framed: Vec<Vec<u8>>,
    /// Every encoded control message.
    pub control: Vec<Vec<u8>>,
    /// Every encoded direct message (`to_bytes` and `to_addressed_bytes`).
    pub direct: Vec<Vec<u8>>,
    /// Encoded application messages.
    pub application: Vec<Vec<u8>>,
    /// Persisted states (`Dcgka::to_bytes`).
    pub states: Vec<Vec<u8>>,
}

/// `[sender, len_lo, len_hi, control[len], direct…]`; an empty direct part
/// means none.
pub fn frame(sender: u8, control: &[u8], direct: Option<&[u8]>) -> Vec<u8> {
    let len = u16::try_from(control.len()).unwrap_or(u16::MAX);
    let mut out = vec![sender];
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&control[..usize::from(len)]);
    out.extend_from_slice(direct.unwrap_or_default());
    out
}

/// Splits what [`frame`] wrote; never panics.
pub fn unframe(bytes: &[u8]) -> (u8, &[u8], Option<&[u8]>) {
    let (sender, rest) = bytes
        .split_first()
        .map(|(s, r)| (*s, r))
        .unwrap_or((0, bytes));
    let (len, rest) = match rest.split_first_chunk::<2>() {
        Some((l, r)) => (usize::from(u16::from_le_bytes(*l)), r),
        None => (rest.len(), rest),
    };
    let (control, direct) = rest.split_at(len.min(rest.len()));
    (sender, control, (!direct.is_empty()).then_some(direct))
}

/// The fixture, built once per process.
pub fn fixture() -> &'static DcgkaFixture {
    static F: OnceLock<DcgkaFixture> = OnceLock::new();
    F.get_or_init(build)
}

#[allow(clippy::unwrap_used, clippy::expect_used)]
fn build() -> DcgkaFixture {
    let mut s = Scenario::new(3, Config::default());
    s.setup().expect("setup");
    let mut ids = s.ids();
    ids.push(s.spare.id());
    let member = s.states[1].clone();
    let spare = s.spare.clone();
    let (mut framed, mut control, mut direct) = (Vec::new(), Vec::new(), Vec::new());
    let mut record = |sender: usize, o: &Outgoing, to: &[MemberId]| {
        control.push(o.control.to_bytes());
        for d in &o.direct {
            direct.push(d.to_bytes());
            direct.push(d.to_addressed_bytes());
        }
        for m in to {
            let d = o.direct_for(m).map(|d| d.to_bytes());
            framed.push(frame(sender as u8, &o.control.to_bytes(), d.as_deref()));
        }
    };
    let (member_id, spare_id) = (ids[1], ids[3]);
    for op in Operation::ALL.into_iter().skip(1) {
        let round = s.round(op).expect("round");
        for o in &round.first {
            record(0, o, &[member_id, spare_id]);
        }
        for (i, _, o) in &round.replies {
            record(*i, o, &[member_id, spare_id]);
        }
    }
    let mut sender = s.states[0].clone();
    let application = (0..2)
        .map(|i| sender.encrypt(&[i; 40], b"aad").expect("encrypt").message)
        .collect();
    let states = vec![
        member.to_bytes().expose_secret().to_vec(),
        spare.to_bytes().expose_secret().to_vec(),
    ];
    DcgkaFixture {
        member,
        spare,
        ids,
        directory: s.directory.clone(),
        framed,
        control,
        direct,
        application,
        states,
    }
}
