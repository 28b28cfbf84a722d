//! Typed outputs straight into the codecs: a serde [`Serializer`] that walks an operation's
//! `…Output` struct and writes each member into an [`OutputSink`], so every protocol writes
//! its bytes from the struct with no `serde_json::Value` tree in between.
//!
//! The mapping is the value tree's (see [`super::model`]), so a struct answers the same bytes
//! whether it goes through a tree or through a sink:
//! - struct fields are members, named by their serde name (AWS member names); a map whose
//!   target shape is a structure (`#[serde(flatten)]`, a passed-through `Value`) works too;
//! - `None`, `()` and non-finite floats are left out, as `null` is in a tree;
//! - sequences are lists, maps are maps (an entry's key is given as the member name);
//! - [`Timestamp`] is a point in time that each protocol formats its own way; in a tree it is
//!   epoch seconds, as before.
//!
//! Fields must be declared in the model's member order: the codecs write members as they
//! come, as the sink contract says; debug builds check it.

use std::fmt;

use serde::ser::{self, Impossible, Serialize};

use super::sink::OutputSink;

/// A point in time in an output, as epoch seconds. Each protocol writes it its own way
/// (ISO 8601 text in XML, epoch numbers in JSON, a tagged float in CBOR), so handlers hand
/// over the number and never format times themselves.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default)]
pub struct Timestamp(pub f64);

/// The newtype name [`OutputSerializer`] recognises a [`Timestamp`] by.
const TIMESTAMP: &str = "$updraft::Timestamp";

impl Serialize for Timestamp {
    fn serialize<S: ser::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // Any other serializer (serde_json for a tree) sees the epoch seconds.
        serializer.serialize_newtype_struct(TIMESTAMP, &self.0)
    }
}

/// Read back as the epoch seconds (stored records that hold a `Timestamp` are kept in
/// snapshots).
impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        f64::deserialize(deserializer).map(Self)
    }
}

impl Timestamp {
    /// As ISO 8601 text with milliseconds (`2026-11-28T05:30:00.000Z`), for the members a
    /// model types as strings (an image's `CreationDate`) and for messages.
    pub fn iso8601(self) -> String {
        super::timestamp::format_iso8601(self.0)
    }

    /// ISO 8601 text (as [`Self::iso8601`] writes it, or without fraction) as a point in time.
    pub fn parse_iso8601(text: &str) -> Option<Self> {
        super::timestamp::parse_iso8601(text).map(Self)
    }
}

impl From<f64> for Timestamp {
    fn from(epoch: f64) -> Self {
        Self(epoch)
    }
}

/// Write `output` (an operation's output struct) into `sink` as its root members.
pub fn write_output<T: Serialize + ?Sized>(
    output: &T,
    sink: &mut dyn OutputSink,
) -> Result<(), Error> {
    output.serialize(OutputSerializer { sink, at: At::Root })
}

/// An output that does not fit the sink model (a list directly inside a list, a map with
/// keys that are not strings): a mismatch between a struct and its shape.
#[derive(Debug)]
pub struct Error(String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Self(msg.to_string())
    }
}

/// Where the value being serialized goes.
#[derive(Clone, Copy)]
enum At<'k> {
    /// The output itself: its members go into the sink's root.
    Root,
    /// A member of the open structure (or the entry of the open map with this key).
    Member(&'k str),
    /// The next item of the open list.
    Item,
}

impl<'k> At<'k> {
    /// The member name the sink's scalar calls take (ignored for list items).
    fn name(self) -> &'k str {
        match self {
            At::Member(name) => name,
            At::Root | At::Item => "",
        }
    }
}

struct OutputSerializer<'s, 'k> {
    sink: &'s mut dyn OutputSink,
    at: At<'k>,
}

impl<'s> OutputSerializer<'s, '_> {
    fn unsupported(&self, what: &str) -> Error {
        Error(format!(
            "{what} cannot be an output member ({})",
            self.at.name()
        ))
    }

    /// Open a structure or map here with `open_member` (nothing to open at the root).
    fn open(
        self,
        open_member: impl FnOnce(&mut dyn OutputSink, &str),
    ) -> Result<Compound<'s>, Error> {
        let close = match self.at {
            At::Root => false,
            At::Member(name) => {
                open_member(&mut *self.sink, name);
                true
            }
            At::Item => {
                self.sink.open_item();
                true
            }
        };
        Ok(Compound {
            sink: self.sink,
            close,
            key: String::new(),
        })
    }
}

/// An open structure, list or map; closed on `end`.
struct Compound<'s> {
    sink: &'s mut dyn OutputSink,
    close: bool,
    /// The key of the map entry whose value comes next.
    key: String,
}

impl Compound<'_> {
    fn end(self) -> Result<(), Error> {
        if self.close {
            self.sink.close();
        }
        Ok(())
    }
}

impl<'s> ser::Serializer for OutputSerializer<'s, '_> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Compound<'s>;
    type SerializeTuple = Compound<'s>;
    type SerializeTupleStruct = Impossible<(), Error>;
    type SerializeTupleVariant = Impossible<(), Error>;
    type SerializeMap = Compound<'s>;
    type SerializeStruct = Compound<'s>;
    type SerializeStructVariant = Impossible<(), Error>;

    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        self.sink.boolean(self.at.name(), v);
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> Result<(), Error> {
        self.serialize_i64(v.into())
    }
    fn serialize_i16(self, v: i16) -> Result<(), Error> {
        self.serialize_i64(v.into())
    }
    fn serialize_i32(self, v: i32) -> Result<(), Error> {
        self.serialize_i64(v.into())
    }
    fn serialize_i64(self, v: i64) -> Result<(), Error> {
        self.sink.integer(self.at.name(), v);
        Ok(())
    }
    fn serialize_u8(self, v: u8) -> Result<(), Error> {
        self.serialize_i64(v.into())
    }
    fn serialize_u16(self, v: u16) -> Result<(), Error> {
        self.serialize_i64(v.into())
    }
    fn serialize_u32(self, v: u32) -> Result<(), Error> {
        self.serialize_i64(v.into())
    }
    fn serialize_u64(self, v: u64) -> Result<(), Error> {
        match i64::try_from(v) {
            Ok(v) => self.serialize_i64(v),
            Err(_) => Err(self.unsupported("an integer above i64::MAX")),
        }
    }
    fn serialize_f32(self, v: f32) -> Result<(), Error> {
        self.serialize_f64(v.into())
    }
    fn serialize_f64(self, v: f64) -> Result<(), Error> {
        // A tree holds a non-finite float as `null`, which no codec writes.
        if v.is_finite() {
            self.sink.float(self.at.name(), v);
        }
        Ok(())
    }
    fn serialize_char(self, v: char) -> Result<(), Error> {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(self, v: &str) -> Result<(), Error> {
        self.sink.string(self.at.name(), v);
        Ok(())
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<(), Error> {
        Err(self.unsupported("raw bytes (blobs are base64 strings)"))
    }
    fn serialize_none(self) -> Result<(), Error> {
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Error> {
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Error> {
        Ok(())
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), Error> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        if name == TIMESTAMP {
            // The newtype holds an `f64`: a JSON number, no allocation.
            let epoch = serde_json::to_value(value)
                .ok()
                .and_then(|v| v.as_f64())
                .ok_or_else(|| self.unsupported("a timestamp that is not a number"))?;
            // As in a tree: a non-finite time is `null`, left out.
            if epoch.is_finite() {
                self.sink.timestamp(self.at.name(), epoch);
            }
            return Ok(());
        }
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), Error> {
        Err(self.unsupported("an enum variant with data"))
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Compound<'s>, Error> {
        match self.at {
            At::Member(name) => self.sink.open_list(name),
            At::Root | At::Item => return Err(self.unsupported("a list outside a structure")),
        }
        Ok(Compound {
            sink: self.sink,
            close: true,
            key: String::new(),
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<Compound<'s>, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Error> {
        Err(self.unsupported("a tuple struct"))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        Err(self.unsupported("an enum variant with data"))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Compound<'s>, Error> {
        // At the root a map's keys are the output's members (a flattened struct).
        self.open(|sink, name| sink.open_map(name))
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Compound<'s>, Error> {
        self.open(|sink, name| sink.open_structure(name))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        Err(self.unsupported("an enum variant with data"))
    }
}

impl ser::SerializeStruct for Compound<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        value.serialize(OutputSerializer {
            sink: &mut *self.sink,
            at: At::Member(key),
        })
    }
    fn end(self) -> Result<(), Error> {
        Compound::end(self)
    }
}

impl ser::SerializeSeq for Compound<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        value.serialize(OutputSerializer {
            sink: &mut *self.sink,
            at: At::Item,
        })
    }
    fn end(self) -> Result<(), Error> {
        Compound::end(self)
    }
}

impl ser::SerializeTuple for Compound<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result<(), Error> {
        Compound::end(self)
    }
}

impl ser::SerializeMap for Compound<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        // Keys are strings in every model of ours (a unit enum variant is its name).
        self.key = match serde_json::to_value(key) {
            Ok(serde_json::Value::String(key)) => key,
            _ => return Err(Error("a map key that is not a string".to_owned())),
        };
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        value.serialize(OutputSerializer {
            sink: &mut *self.sink,
            at: At::Member(&self.key),
        })
    }
    fn end(self) -> Result<(), Error> {
        Compound::end(self)
    }
}

#[cfg(test)]
#[path = "output_tests.rs"]
mod tests;
