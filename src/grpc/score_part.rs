//! `equipmatch.v1.ScorePart` written by hand (`build.rs` maps the message here with
//! `extern_path`), so that its criterion, one of five fixed names, is a `&'static str` on the
//! server instead of a new `String`: a Shortlist of 20 entries built 100 such strings a call,
//! about half of its response's allocations (BENCHMARKS.md, `shortlist3`). The wire format is
//! the generated one's, field for field (a test holds the two to the same bytes both ways);
//! decoding, as a client does, owns its text.

use std::borrow::Cow;

use prost::bytes::{Buf, BufMut};
use prost::encoding::{self, DecodeContext, WireType};
use prost::DecodeError;

/// One criterion's share of a score (see the contract's `ScorePart`).
#[derive(Clone, PartialEq, Debug, Default)]
pub struct ScorePart {
    /// arrival | coverage | reliability | certification | zone_policy.
    pub criterion: Cow<'static, str>,
    /// Normalised weight; the weights of one score sum to 1.
    pub weight: f64,
    /// The criterion's value for this option, in [0, 1].
    pub value: f64,
    /// weight × value.
    pub contribution: f64,
}

const CRITERION: u32 = 1;
const WEIGHT: u32 = 2;
const VALUE: u32 = 3;
const CONTRIBUTION: u32 = 4;

impl prost::Message for ScorePart {
    // Proto3: fields at their default value are not written, as the generated code does.
    fn encode_raw(&self, buf: &mut impl BufMut) {
        if !self.criterion.is_empty() {
            encoding::encode_key(CRITERION, WireType::LengthDelimited, buf);
            encoding::encode_varint(self.criterion.len() as u64, buf);
            buf.put_slice(self.criterion.as_bytes());
        }
        for (tag, value) in self.doubles() {
            if value != 0.0 {
                encoding::double::encode(tag, &value, buf);
            }
        }
    }

    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: WireType,
        buf: &mut impl Buf,
        ctx: DecodeContext,
    ) -> Result<(), DecodeError> {
        match tag {
            CRITERION => {
                let mut text = String::new();
                encoding::string::merge(wire_type, &mut text, buf, ctx)?;
                self.criterion = Cow::Owned(text);
                Ok(())
            }
            WEIGHT => encoding::double::merge(wire_type, &mut self.weight, buf, ctx),
            VALUE => encoding::double::merge(wire_type, &mut self.value, buf, ctx),
            CONTRIBUTION => encoding::double::merge(wire_type, &mut self.contribution, buf, ctx),
            _ => encoding::skip_field(wire_type, tag, buf, ctx),
        }
    }

    fn encoded_len(&self) -> usize {
        let criterion = if self.criterion.is_empty() {
            0
        } else {
            encoding::key_len(CRITERION)
                + encoding::encoded_len_varint(self.criterion.len() as u64)
                + self.criterion.len()
        };
        let doubles: usize = self
            .doubles()
            .iter()
            .filter(|(_, value)| *value != 0.0)
            .map(|(tag, value)| encoding::double::encoded_len(*tag, value))
            .sum();
        criterion + doubles
    }

    fn clear(&mut self) {
        *self = ScorePart::default();
    }
}

impl ScorePart {
    fn doubles(&self) -> [(u32, f64); 3] {
        [(WEIGHT, self.weight), (VALUE, self.value), (CONTRIBUTION, self.contribution)]
    }
}

#[cfg(test)]
mod tests {
    use prost::Message;

    use super::ScorePart;

    /// The message prost generates from the contract's `ScorePart`, spelled out: the reference
    /// the hand-written one must match byte for byte.
    #[derive(Clone, PartialEq, prost::Message)]
    struct Generated {
        #[prost(string, tag = "1")]
        criterion: String,
        #[prost(double, tag = "2")]
        weight: f64,
        #[prost(double, tag = "3")]
        value: f64,
        #[prost(double, tag = "4")]
        contribution: f64,
    }

    #[test]
    fn the_hand_written_score_part_encodes_and_decodes_like_the_generated_one() {
        let cases = [
            ("arrival", 0.4, 0.75, 0.3),
            ("zone_policy", 0.1, 1.0, 0.1),
            ("", 0.0, 0.0, 0.0),
            ("coverage", 0.25, 0.0, 0.0),
            ("certification", -0.0, f64::MIN_POSITIVE, 1e300),
        ];
        for (criterion, weight, value, contribution) in cases {
            let ours = ScorePart { criterion: criterion.into(), weight, value, contribution };
            let generated = Generated { criterion: criterion.into(), weight, value, contribution };
            let bytes = generated.encode_to_vec();
            assert_eq!(ours.encode_to_vec(), bytes, "{criterion}");
            assert_eq!(ours.encoded_len(), bytes.len(), "{criterion}");
            assert_eq!(ScorePart::decode(bytes.as_slice()).expect("decodes"), ours);
            assert_eq!(
                Generated::decode(ours.encode_to_vec().as_slice()).expect("decodes"),
                generated
            );
        }
        // Unknown fields are skipped and a repeated field's last value wins, as generated code
        // does; bad UTF-8 is refused.
        let mut bytes =
            Generated { criterion: "arrival".into(), ..Default::default() }.encode_to_vec();
        bytes.extend(
            Generated { criterion: "zone_policy".into(), weight: 0.5, ..Default::default() }
                .encode_to_vec(),
        );
        bytes.extend([0x28, 0x07]); // field 5, varint 7
        let decoded = ScorePart::decode(bytes.as_slice()).expect("decodes");
        assert_eq!((decoded.criterion.as_ref(), decoded.weight), ("zone_policy", 0.5));
        assert!(ScorePart::decode([0x0a, 0x01, 0xff].as_slice()).is_err());
    }
}
