use super::*;

#[test]
fn acks_copy_what_the_protocol_says() {
    let n = Node::new("receipt")
        .with_attr("id", "R1")
        .with_attr("from", "15551234567@s.whatsapp.net")
        .with_attr("participant", "p@s.whatsapp.net")
        .with_attr("type", "read");
    let ack = ack_for(&n).unwrap();
    assert_eq!(ack.attr_str("class"), Some("receipt"));
    assert_eq!(ack.attr_str("id"), Some("R1"));
    assert_eq!(ack.attr_str("to"), Some("15551234567@s.whatsapp.net"));
    assert_eq!(ack.attr_str("participant"), Some("p@s.whatsapp.net"));
    assert_eq!(ack.attr_str("type"), Some("read"));

    let m = Node::new("message")
        .with_attr("id", "M1")
        .with_attr("type", "text");
    let ack = ack_for(&m).unwrap();
    assert_eq!(ack.attr_str("class"), Some("message"));
    assert_eq!(ack.attr_str("type"), None);

    for tag in ["notification", "call"] {
        assert!(ack_for(&Node::new(tag).with_attr("id", "x")).is_some());
    }
    assert!(ack_for(&Node::new("iq").with_attr("id", "x")).is_none());
    assert!(ack_for(&Node::new("message")).is_none());
}
