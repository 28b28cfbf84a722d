use super::*;

fn same(a: &BTreeMap<i64, Agg>, b: &BTreeMap<i64, Agg>) -> bool {
    // Bit for bit: the debug form of an f64 tells -0.0 from 0.0 and every NaN apart.
    let bits = |m: &BTreeMap<i64, Agg>| {
        m.iter()
            .map(|(t, a)| {
                let floats = [a.count, a.sum, a.min, a.max].map(f64::to_bits);
                let dist = match &a.dist {
                    Dist::Exact(v) => format!(
                        "E{:?}",
                        v.iter()
                            .map(|(x, c)| (x.to_bits(), c.to_bits()))
                            .collect::<Vec<_>>()
                    ),
                    Dist::Sketch(s) => format!(
                        "S{}{:?}",
                        s.zeros.to_bits(),
                        s.buckets
                            .iter()
                            .map(|(i, c)| (*i, c.to_bits()))
                            .collect::<Vec<_>>()
                    ),
                    Dist::Unavailable => "U".to_owned(),
                };
                (*t, floats, dist)
            })
            .collect::<Vec<_>>()
    };
    bits(a) == bits(b)
}

fn sample_tiers() -> [BTreeMap<i64, Agg>; 4] {
    let mut sec = BTreeMap::new();
    let mut min = BTreeMap::new();
    let mut five = BTreeMap::new();
    let mut hour = BTreeMap::new();
    for t in 0..300i64 {
        let v = (t * 7) as f64 * 0.37;
        min.insert(1_700_000_000 + t * 60, Agg::value(v));
        sec.insert(1_700_000_000 + t, Agg::values(&[(v, 2.0), (v + 1.5, 1.0)]));
    }
    // More distinct values than the exact set keeps: a sketch.
    let many: Vec<(f64, f64)> = (0..200).map(|i| (f64::from(i) * 1.1, 1.0)).collect();
    five.insert(-600, Agg::values(&many));
    five.insert(0, Agg::set(3.0, 10.0, -1.0, 8.0));
    five.insert(300, Agg::value(-0.0));
    hour.insert(i64::MIN, Agg::value(f64::MAX));
    hour.insert(
        i64::MAX,
        Agg::set(1.0, f64::INFINITY, f64::INFINITY, f64::INFINITY),
    );
    [sec, min, five, hour]
}

#[test]
fn every_kind_of_bucket_comes_back_bit_for_bit() {
    let tiers = sample_tiers();
    let bytes = pack([&tiers[0], &tiers[1], &tiers[2], &tiers[3]]);
    let back = unpack(&bytes).expect("unpacks");
    for (a, b) in tiers.iter().zip(&back) {
        assert!(same(a, b), "{a:?}\n!=\n{b:?}");
    }
    assert!(matches!(tiers[2][&-600].dist, Dist::Sketch(_)));
}

#[test]
fn a_single_value_bucket_takes_a_few_bytes() {
    let mut min = BTreeMap::new();
    for t in 0..1000i64 {
        min.insert(t * 60, Agg::value((t % 50) as f64));
    }
    let empty = BTreeMap::new();
    let bytes = pack([&empty, &min, &empty, &empty]);
    // time delta 1 + count 1 + flags 1 + an integral minimum ≤ 4.
    assert!(bytes.len() < 1000 * 7, "{} bytes", bytes.len());
}

#[test]
fn damaged_bytes_are_an_error_not_a_panic() {
    let tiers = sample_tiers();
    let bytes = pack([&tiers[0], &tiers[1], &tiers[2], &tiers[3]]);
    for cut in (0..bytes.len()).step_by(7) {
        assert!(unpack(&bytes[..cut]).is_err(), "cut at {cut}");
    }
    let mut extra = bytes.clone();
    extra.push(0);
    assert!(unpack(&extra).is_err());
    // Flipped bytes: any answer but a panic (some flips still decode).
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..2000 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let mut damaged = bytes.clone();
        let at = (seed as usize) % damaged.len();
        damaged[at] ^= (seed >> 32) as u8 | 1;
        let _ = unpack(&damaged);
    }
    // A huge count with nothing behind it allocates nothing.
    let mut huge = Vec::new();
    put_varint(&mut huge, u64::MAX >> 1);
    assert!(unpack(&huge).is_err());
}
