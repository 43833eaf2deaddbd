//! The server's IQ answers (`result`, `error`), shared by every IQ handler.

use wa_core::binary::{Jid, Node, Server};

/// `@s.whatsapp.net`, the `from` of the server's answers.
pub(crate) fn server() -> Jid {
    Jid::server_jid(Server::Pn)
}

/// `<iq from=@s.whatsapp.net id type="result"/>`.
pub(crate) fn result(id: &str) -> Node {
    Node::new("iq")
        .with_attr("from", server())
        .with_attr("type", "result")
        .with_attr("id", id.to_owned())
}

/// `<iq from=@s.whatsapp.net id type="error"><error code text/></iq>`.
pub(crate) fn error(id: &str, code: u16, text: &'static str) -> Node {
    Node::new("iq")
        .with_attr("from", server())
        .with_attr("type", "error")
        .with_attr("id", id.to_owned())
        .with_children(vec![Node::new("error")
            .with_attr("code", code.to_string())
            .with_attr("text", text)])
}
