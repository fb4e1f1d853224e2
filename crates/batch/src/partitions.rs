//! How the foyers of an extract are cut: into ranges of consecutive `id_foyer` (byte
//! order, the order every output is sorted in), so that the outputs of the pieces, one
//! after the other, are the outputs of the whole.
//!
//! Two levels: the partitions of a partitioned run (`screen --partition K/N`, one
//! process each; one partition for a whole run), and within the partition this process
//! runs, the pieces it loads, validates and evaluates one after the other, as many as
//! its memory budget asks. Both are computed from the `id_foyer` column of the `foyers`
//! file alone (read before anything else: extract::routage), so every process of a
//! partitioned run computes the same cut.

/// Ranges of ids: `bornes[k]` is the first id of range k + 1, so range k holds the ids
/// in `[bornes[k - 1], bornes[k])` (open at both ends).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partitions {
    bornes: Vec<String>,
}

impl Partitions {
    /// One range holding every id.
    pub fn one() -> Partitions {
        Partitions { bornes: Vec::new() }
    }

    /// `n` ranges of (nearly) equal counts of `sorted` ids (some empty when there are
    /// fewer ids than `n`), at least one.
    pub fn of_sorted(sorted: &[&str], n: usize) -> Partitions {
        let borne = |k: usize| sorted.get(k * sorted.len() / n).copied().unwrap_or("").to_string();
        Partitions { bornes: (1..n.max(1)).map(borne).collect() }
    }

    /// The ranges `[.., id)`, `[id, id + NUL)` and `[id + NUL, ..)`: range 1 holds the one
    /// foyer `id` (for `explain`).
    pub fn around(id: &str) -> Partitions {
        Partitions { bornes: vec![id.to_string(), format!("{id}\0")] }
    }

    /// How many ranges (at least one).
    pub fn count(&self) -> usize {
        self.bornes.len() + 1
    }

    /// The range of an id: the ranges cover every id, those of quarantined foyers and of
    /// foyers absent from `foyers` included.
    pub fn of(&self, id_foyer: &str) -> usize {
        self.bornes.partition_point(|b| b.as_str() <= id_foyer)
    }

    /// Whether range `k` holds `id_foyer`.
    pub fn holds(&self, k: usize, id_foyer: &str) -> bool {
        self.of(id_foyer) == k
    }
}

/// Which foyers this process evaluates, and in how many pieces.
#[derive(Debug, Clone)]
pub struct Coupe {
    /// The partitions of a partitioned run; one for a whole run.
    pub partitions: Partitions,
    /// The partition this process runs.
    pub partie: usize,
    /// The pieces of that partition, loaded and evaluated one after the other.
    pub pieces: Partitions,
}

impl Coupe {
    /// The whole extract in one piece.
    pub fn whole() -> Coupe {
        Coupe { partitions: Partitions::one(), partie: 0, pieces: Partitions::one() }
    }

    /// Partition `partie` of `nombre` of the (sorted) foyer ids, in `pieces` pieces (the
    /// pieces' count is capped by the foyers of the partition, at least one).
    pub fn new(sorted: &[&str], nombre: usize, partie: usize, pieces: usize) -> Coupe {
        let partitions = Partitions::of_sorted(sorted, nombre);
        let mine: Vec<&str> = sorted.iter().copied().filter(|id| partitions.holds(partie, id)).collect();
        let pieces = Partitions::of_sorted(&mine, pieces.clamp(1, mine.len().max(1)));
        Coupe { partitions, partie, pieces }
    }

    /// The foyers of the partition this process runs, among `sorted`.
    pub fn foyers(&self, sorted: &[&str]) -> usize {
        sorted.iter().filter(|id| self.partitions.holds(self.partie, id)).count()
    }

    /// How many pieces this process evaluates.
    pub fn count(&self) -> usize {
        self.pieces.count()
    }

    /// The piece of a foyer; `None` when it belongs to another process's partition.
    pub fn piece(&self, id_foyer: &str) -> Option<usize> {
        self.partitions.holds(self.partie, id_foyer).then(|| self.pieces.of(id_foyer))
    }

    /// Where a row that belongs to no known foyer is counted: partition 0, its first
    /// piece (`None` in the other partitions).
    pub fn sans_foyer(&self) -> Option<usize> {
        (self.partie == 0).then_some(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_cover_every_id_and_the_pieces_split_one_partition() {
        let ids = ["F01", "F02", "F03", "F04", "F05", "F06", "F07", "F08", "F09"];
        let p = Partitions::of_sorted(&ids, 3);
        let of: Vec<usize> = ids.iter().map(|id| p.of(id)).collect();
        assert_eq!(of, [0, 0, 0, 1, 1, 1, 2, 2, 2]);
        // Ids that are not among the foyers still fall in a range.
        assert_eq!((p.of(""), p.of("F045"), p.of("Z")), (0, 1, 2));
        // More ranges than ids: empty ranges, every id in one of them.
        let p = Partitions::of_sorted(&ids[..2], 5);
        assert_eq!(p.count(), 5);
        assert_eq!(ids[..2].iter().map(|id| p.of(id)).collect::<Vec<_>>(), [2, 4]);

        let c = Coupe::new(&ids, 3, 1, 2);
        let pieces: Vec<Option<usize>> = ids.iter().map(|id| c.piece(id)).collect();
        assert_eq!(pieces, [None, None, None, Some(0), Some(1), Some(1), None, None, None]);
        assert_eq!((c.foyers(&ids), c.sans_foyer()), (3, None));
        let around = Partitions::around("F05");
        assert_eq!(ids.iter().filter(|id| around.holds(1, id)).collect::<Vec<_>>(), [&"F05"]);
    }
}
