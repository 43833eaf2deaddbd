//! Typed IQs: each request says how it is built and how its answer is read, so a caller asks
//! `handle.query(&request)` and gets the typed answer or one error, instead of pairing a node
//! builder with a parser by hand at every call site.
//!
//! The connection engine gives the request its `id` when it has none, waits for the answer
//! with that id, and turns `type="error"` answers into its own error before [`Iq::parse`]
//! sees them; `parse` reads a `type="result"` answer.

use super::link_code::{CompanionFinish, CompanionHello, CompanionHelloResult};
use super::{iq_header, StanzaError};
use crate::binary::Node;

/// A request/answer pair over `<iq>`.
pub trait Iq {
    /// What a successful answer means.
    type Answer;

    /// The request stanza (an `<iq>`; its `id` may be left out).
    fn build(&self) -> Node;

    /// Reads a `type="result"` answer.
    fn parse(answer: &Node) -> Result<Self::Answer, StanzaError>;
}

/// Reads an answer that carries nothing but its success: an `<iq type="result">`.
pub fn parse_empty_result(answer: &Node) -> Result<(), StanzaError> {
    let (_, kind) = iq_header(answer)?;
    if kind == "result" {
        Ok(())
    } else {
        Err(StanzaError::BadAttr {
            tag: "iq",
            attr: "type",
            value: kind,
            expected: "result",
        })
    }
}

/// Linking by phone number, step one: the server answers with the pairing ref.
impl Iq for CompanionHello {
    type Answer = CompanionHelloResult;

    fn build(&self) -> Node {
        self.to_node()
    }

    fn parse(answer: &Node) -> Result<CompanionHelloResult, StanzaError> {
        CompanionHelloResult::parse(answer)
    }
}

/// Linking by phone number, last step: the server only confirms.
impl Iq for CompanionFinish {
    type Answer = ();

    fn build(&self) -> Node {
        self.to_node()
    }

    fn parse(answer: &Node) -> Result<(), StanzaError> {
        parse_empty_result(answer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_result_is_only_a_result() {
        let ok = Node::new("iq")
            .with_attr("id", "1")
            .with_attr("type", "result");
        assert_eq!(parse_empty_result(&ok), Ok(()));
        let get = Node::new("iq")
            .with_attr("id", "1")
            .with_attr("type", "get");
        assert!(matches!(
            parse_empty_result(&get),
            Err(StanzaError::BadAttr { attr: "type", .. })
        ));
        assert!(matches!(
            parse_empty_result(&Node::new("ack")),
            Err(StanzaError::WrongTag { .. })
        ));
    }
}
