//! The published tables of one benefit: every combination of the dimensions' levels
//! (each dimension detailed at one of its levels, or summed away), each a sum of atoms,
//! and the relations between them that a reader can use: a margin is the sum of the
//! cells it covers. The five groups counted are not summed together in any published
//! figure, so each group's tables form a system of their own (protected apart: the
//! systems are six times smaller than one linking them, and the audit's cost grows
//! faster than their size).

use std::collections::{BTreeMap, HashMap};

use super::cube::Atome;
use super::dimensions::Dimension;

/// One table: the level of each dimension (0: summed away), and its rows.
#[derive(Debug, Clone)]
pub struct Table {
    pub niveaux: Vec<usize>,
    /// Rows in key order: the value of each dimension at its level, and the sums.
    pub lignes: Vec<(Vec<String>, Atome)>,
}

impl Table {
    /// The detailed dimensions, `×`-joined (`commune×type_foyer`), or `ensemble`.
    pub fn nom(&self, dims: &[Dimension]) -> String {
        let parts: Vec<&str> =
            dims.iter().zip(&self.niveaux).filter(|(_, l)| **l > 0).map(|(d, l)| d.niveaux[l - 1].name()).collect();
        if parts.is_empty() { "ensemble".to_string() } else { parts.join("×") }
    }
}

/// Every level combination, the whole first and the finest last.
pub fn combinaisons(dims: &[Dimension]) -> Vec<Vec<usize>> {
    let mut all: Vec<Vec<usize>> = vec![vec![]];
    for d in dims {
        all = all.into_iter().flat_map(|c| (0..=d.niveaux.len()).map(move |l| [c.clone(), vec![l]].concat())).collect();
    }
    all.sort_by_key(|c| (c.iter().sum::<usize>(), c.clone()));
    all
}

/// Every table of a benefit, summed from its atoms.
pub fn tables(dims: &[Dimension], atomes: &BTreeMap<Vec<String>, Atome>) -> Vec<Table> {
    combinaisons(dims)
        .into_iter()
        .map(|niveaux| {
            let mut rows: BTreeMap<Vec<String>, Atome> = BTreeMap::new();
            for (key, atom) in atomes {
                let k: Vec<String> = dims.iter().zip(&niveaux).zip(key).map(|((d, l), v)| d.value(*l, v)).collect();
                rows.entry(k).or_default().add(atom);
            }
            Table { niveaux, lignes: rows.into_iter().collect() }
        })
        .collect()
}

/// A cell of one group: (table, row).
pub type Cellule = (usize, usize);

/// The linear relations between the cells of one group's tables: each is a list of
/// (cell, coefficient) summing to zero. They generate every relation a reader can
/// derive: any table's cell is a sum of the finest table's cells by repeated margins.
pub fn relations(dims: &[Dimension], tables: &[Table]) -> Vec<Vec<(Cellule, i64)>> {
    let mut eqs = Vec::new();
    let index: HashMap<&Vec<usize>, usize> = tables.iter().enumerate().map(|(i, t)| (&t.niveaux, i)).collect();
    for (t, table) in tables.iter().enumerate() {
        for (d, dim) in dims.iter().enumerate() {
            let l = table.niveaux[d];
            if l == 0 {
                continue;
            }
            let mut up = table.niveaux.clone();
            up[d] = l - 1;
            let Some(&p) = index.get(&up) else { continue };
            let parent = &tables[p];
            let rows: HashMap<&Vec<String>, usize> =
                parent.lignes.iter().enumerate().map(|(i, (k, _))| (k, i)).collect();
            let mut children: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
            for (r, (key, _)) in table.lignes.iter().enumerate() {
                let mut k = key.clone();
                k[d] = dim.parent_value(l, &key[d]);
                if let Some(&pr) = rows.get(&k) {
                    children.entry(pr).or_default().push(r);
                }
            }
            for (pr, rs) in children {
                let mut eq = vec![((p, pr), 1)];
                eq.extend(rs.iter().map(|&r| ((t, r), -1)));
                eqs.push(eq);
            }
        }
    }
    eqs
}
