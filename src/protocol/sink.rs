//! A protocol-neutral output sink: handlers of large listings write their output member by
//! member (AWS member names, model order) instead of building a value tree, and the codec
//! streams it straight into the response body.
//!
//! A `DescribeInstances` tree of 10,000 instances costs about two million allocations to
//! build, walk and free; writing through a sink costs a few per structure.
//!
//! Calls must follow the output shape's member order, as the codec writes them as they come
//! (`xml_stream`'s test pins that against the tree path). Members the model lacks are skipped
//! with everything under them, as the tree path skips them. Inside a map, each value's
//! `member` is its entry's key.
//!
//! Typed outputs reach a sink through [`super::output::write_output`]; every protocol has one
//! (`xml::XmlSink` for ec2Query and awsQuery, `object_sink::{JsonSink, CborSink}`).

/// Where a streaming handler writes its output.
pub trait OutputSink {
    /// Open the structure member `member` of the current structure.
    fn open_structure(&mut self, member: &str);
    /// Open the list member `member` of the current structure.
    fn open_list(&mut self, member: &str);
    /// Open the map member `member` of the current structure (on a structure shape it opens
    /// that structure: the keys are then its members).
    fn open_map(&mut self, member: &str);
    /// Open the next item of the current list, a structure.
    fn open_item(&mut self);
    /// Close what the last `open_*` opened.
    fn close(&mut self);
    /// A string member (in a list: the next item; `member` is then ignored).
    fn string(&mut self, member: &str, value: &str);
    /// An integer member.
    fn integer(&mut self, member: &str, value: i64);
    /// A floating-point member (finite).
    fn float(&mut self, member: &str, value: f64);
    /// A boolean member.
    fn boolean(&mut self, member: &str, value: bool);
    /// A timestamp member, as epoch seconds.
    fn timestamp(&mut self, member: &str, epoch: f64);
}
