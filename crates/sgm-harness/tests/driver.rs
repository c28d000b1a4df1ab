//! The driver's delivery for schemes that need a totally ordered channel
//! with echo (mpENC), and its round counting, on a toy scheme: every member
//! logs what it receives; a "greeting" passes a token along the members
//! one after the other (O(n) sequential rounds, as mpENC's greeting does).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::convert::Infallible;

use sgm_crypto::{CryptoRng, MemberId};
use sgm_harness::{
    Capabilities, Group, GroupScheme, Incoming, Message, MessageKind, Operation, Processed,
};

#[derive(Clone, Debug)]
struct Toy {
    id: MemberId,
    members: Vec<MemberId>,
    log: Vec<(MemberId, Vec<u8>)>,
}

#[derive(Clone, Default)]
struct ToyScheme {
    next: u8,
}

impl GroupScheme for ToyScheme {
    type Member = Toy;
    type Error = Infallible;

    fn name(&self) -> &'static str {
        "toy"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            total_order: true,
            echo: true,
        }
    }

    fn new_member(&mut self, _: &mut impl CryptoRng) -> Result<Toy, Infallible> {
        self.next += 1;
        Ok(Toy {
            id: MemberId::from_bytes([self.next; 16]),
            members: Vec::new(),
            log: Vec::new(),
        })
    }

    fn member_id(&self, m: &Toy) -> MemberId {
        m.id
    }

    fn create(
        &mut self,
        m: &mut Toy,
        others: &[MemberId],
        _: &mut impl CryptoRng,
    ) -> Result<Vec<Message>, Infallible> {
        m.members = std::iter::once(m.id)
            .chain(others.iter().copied())
            .collect();
        let list: Vec<u8> = m.members.iter().flat_map(|x| *x.as_bytes()).collect();
        Ok(vec![Message::broadcast(
            m.id,
            MessageKind::Control,
            others.iter().copied(),
            list,
        )])
    }

    fn add(
        &mut self,
        _: &mut Toy,
        _: MemberId,
        _: &mut impl CryptoRng,
    ) -> Result<Vec<Message>, Infallible> {
        Ok(Vec::new())
    }

    fn remove(
        &mut self,
        _: &mut Toy,
        _: MemberId,
        _: &mut impl CryptoRng,
    ) -> Result<Vec<Message>, Infallible> {
        Ok(Vec::new())
    }

    /// The greeting: a token to the next member, which passes it on.
    fn update(&mut self, m: &mut Toy, _: &mut impl CryptoRng) -> Result<Vec<Message>, Infallible> {
        Ok(vec![Message::unicast(
            m.id,
            MessageKind::Control,
            m.members[1],
            vec![1],
        )])
    }

    fn send(
        &mut self,
        m: &mut Toy,
        text: &[u8],
        _: &mut impl CryptoRng,
    ) -> Result<Vec<Message>, Infallible> {
        Ok(vec![Message::broadcast(
            m.id,
            MessageKind::Application,
            m.members.clone(),
            text.to_vec(),
        )])
    }

    fn receive(
        &mut self,
        m: &mut Toy,
        msg: &Incoming<'_>,
        _: &mut impl CryptoRng,
    ) -> Result<Processed, Infallible> {
        m.log.push((msg.sender, msg.body.to_vec()));
        let mut p = Processed::default();
        match msg.kind {
            MessageKind::Application => p.plaintext = Some(msg.body.to_vec()),
            MessageKind::Control if msg.body.len() > 1 => {
                m.members = msg
                    .body
                    .chunks(16)
                    .map(|c| MemberId::from_slice(c).unwrap())
                    .collect();
            }
            MessageKind::Control => {
                p.key_changed = true;
                let me = m.members.iter().position(|x| *x == m.id).unwrap();
                if let Some(next) = m.members.get(me + 1) {
                    p.replies
                        .push(Message::unicast(m.id, MessageKind::Control, *next, vec![1]));
                }
            }
        }
        Ok(p)
    }
}

#[test]
fn total_order_with_echo() {
    let (mut g, create) = Group::setup(ToyScheme::default(), 4, 1).unwrap();
    assert_eq!(create.rounds, 1);
    let ids = g.ids().to_vec();
    g.take_outcome();
    // Three concurrent senders: everyone, senders included (echo), logs the
    // same sequence.
    for (i, text) in [(0, b"a"), (2, b"b"), (3, b"c")] {
        g.start(ids[i], Operation::Send(text.to_vec())).unwrap();
    }
    g.deliver_all().unwrap();
    let logs: Vec<Vec<(MemberId, Vec<u8>)>> = ids
        .iter()
        .map(|m| {
            g.member(m)
                .unwrap()
                .log
                .iter()
                .skip_while(|(_, b)| b.len() > 1)
                .cloned()
                .collect()
        })
        .collect();
    assert_eq!(logs[0].len(), 3, "the sender received its own message back");
    assert!(logs.iter().all(|l| *l == logs[0]), "one total order");
    // Only the first pending entry of each recipient is deliverable.
    g.start(ids[1], Operation::Send(b"d".to_vec())).unwrap();
    g.start(ids[2], Operation::Send(b"e".to_vec())).unwrap();
    for i in g.deliverable() {
        let r = g.pending()[i].recipient;
        assert_eq!(g.pending().iter().position(|e| e.recipient == r), Some(i));
    }
    g.deliver_all().unwrap();
}

#[test]
fn sequential_rounds_are_counted() {
    for n in [3, 6, 10] {
        let (mut g, _) = Group::setup(ToyScheme::default(), n, 1).unwrap();
        let first = g.ids()[0];
        let out = g.run(first, Operation::Update).unwrap();
        assert_eq!(out.rounds, n - 1);
        assert_eq!(out.key_rounds, n - 1);
        assert_eq!(out.messages, n - 1);
    }
}
