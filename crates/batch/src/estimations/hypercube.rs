//! Hiding a recoverable cell for good: a hypercube of cells around it.
//!
//! Every published table of a benefit is a sum of atoms (cube.rs). Move some foyers
//! between atoms, +1 on some and -1 on others: a reader sees a change only in the cells
//! whose atoms' moves do not cancel. If every such cell is suppressed, the published
//! figures cannot tell the two worlds apart, so none of those cells can be recovered,
//! whatever else is published (the audit's linear algebra and this are two views of the
//! same null space).
//!
//! The moves used here are the hypercube method of the statistical offices (τ-Argus's
//! HYPERCUBE, Repsilber's): for a cell `c`, pick an atom under it, and in some of the
//! dimensions `c` details, a second value that shares its parent at some level `s` of
//! that dimension's hierarchy; the corners of the cube those choices span carry +1 and
//! -1 alternately. A table whose level in a paired dimension is coarser than `s` sees
//! each +1 beside a -1 in the same cell and nothing changes; every other table sees
//! exactly one corner in each of 2^k cells, and those are the cells to hide. Among the
//! choices, the one that hides the fewest published cells (then the smallest total) is
//! taken. The search is bounded: this serves the few cells the lines rule leaves
//! recoverable (secret crate), and the audit checks the result in every case.

use std::collections::HashMap;

use super::dimensions::Dimension;
use super::tables::Table;

/// Base atoms tried per cell, and partner values kept per dimension.
const ATOMES_ESSAYES: usize = 12;
const PARTENAIRES_GARDES: usize = 2;

/// The structure of one benefit's tables, with every value interned.
pub struct Hypercubes {
    niveaux: Vec<Vec<usize>>,
    offsets: Vec<usize>,
    /// Per table and row: the key as value ids at the table's levels.
    cles: Vec<Vec<Vec<u32>>>,
    /// (table, key ids) → cell.
    cellules: HashMap<(usize, Vec<u32>), usize>,
    /// Per dimension, per finest value id: its value id at every level (0: the margin).
    ancetres: Vec<Vec<Vec<u32>>>,
    /// The atoms: finest value id of each dimension.
    atomes: Vec<Vec<u32>>,
    atome: HashMap<Vec<u32>, usize>,
}

impl Hypercubes {
    /// `tables` as tables::tables returns them (the finest last), cells numbered table
    /// after table from `offsets`.
    pub fn new(dims: &[Dimension], tables: &[Table], offsets: &[usize]) -> Hypercubes {
        // Value ids per (dimension, level); the finest level's ids index `ancetres`.
        let mut ids: Vec<Vec<HashMap<String, u32>>> =
            dims.iter().map(|d| vec![HashMap::new(); d.niveaux.len() + 1]).collect();
        let mut intern = |d: usize, l: usize, v: &str| -> u32 {
            let m = &mut ids[d][l];
            let n = m.len() as u32;
            *m.entry(v.to_string()).or_insert(n)
        };
        let finest = tables.last().map(|t| t.lignes.as_slice()).unwrap_or(&[]);
        let mut ancetres: Vec<Vec<Vec<u32>>> = vec![Vec::new(); dims.len()];
        let mut atomes = Vec::with_capacity(finest.len());
        for (key, _) in finest {
            let mut atom = Vec::with_capacity(dims.len());
            for (d, dim) in dims.iter().enumerate() {
                let top = dim.niveaux.len();
                let f = intern(d, top, &key[d]);
                if ancetres[d].len() <= f as usize {
                    let chain: Vec<u32> = (0..=top).map(|l| intern(d, l, &dim.value(l, &key[d]))).collect();
                    ancetres[d].push(chain);
                }
                atom.push(f);
            }
            atomes.push(atom);
        }
        let atome: HashMap<Vec<u32>, usize> = atomes.iter().enumerate().map(|(i, a)| (a.clone(), i)).collect();
        let mut cles = Vec::with_capacity(tables.len());
        let mut cellules = HashMap::new();
        for (t, table) in tables.iter().enumerate() {
            let mut rows = Vec::with_capacity(table.lignes.len());
            for (r, (key, _)) in table.lignes.iter().enumerate() {
                let k: Vec<u32> = key.iter().enumerate().map(|(d, v)| intern(d, table.niveaux[d], v)).collect();
                cellules.insert((t, k.clone()), offsets[t] + r);
                rows.push(k);
            }
            cles.push(rows);
        }
        Hypercubes {
            niveaux: tables.iter().map(|t| t.niveaux.clone()).collect(),
            offsets: offsets.to_vec(),
            cles,
            cellules,
            ancetres,
            atomes,
            atome,
        }
    }

    /// The published cells to hide so that cell `c` cannot be recovered (none left to
    /// hide when earlier ones did it), or None when no hypercube fits in the atoms that
    /// exist.
    pub fn autour(&self, c: usize, valeurs: &[u64], masque: &[bool]) -> Option<Vec<usize>> {
        let t = self.offsets.partition_point(|&o| o <= c) - 1;
        let (niveaux, cle) = (&self.niveaux[t], &self.cles[t][c - self.offsets[t]]);
        // Atoms under c, those with foyers in this group first (their cells are not zeros).
        let mut sous: Vec<usize> = (0..self.atomes.len())
            .filter(|&a| (0..niveaux.len()).all(|d| self.anc(d, self.atomes[a][d], niveaux[d]) == cle[d]))
            .collect();
        let finest = self.niveaux.len() - 1;
        let valeur_atome = |a: usize| self.cellules.get(&(finest, self.atomes[a].clone())).map_or(0, |&x| valeurs[x]);
        sous.sort_by_key(|&a| (valeur_atome(a) == 0, std::cmp::Reverse(valeur_atome(a)), a));
        sous.truncate(ATOMES_ESSAYES);
        let mut best: Option<((usize, u64), Vec<usize>)> = None;
        for plan in plans(niveaux) {
            let perturbees: Vec<usize> = (0..self.niveaux.len())
                .filter(|&m| plan.iter().enumerate().all(|(d, s)| s.is_none_or(|s| self.niveaux[m][d] >= s)))
                .collect();
            for &a in &sous {
                // For each paired dimension, its best partner values on their own.
                let mut choix: Vec<(usize, Vec<u32>)> = Vec::new();
                let mut possible = true;
                for (d, s) in plan.iter().enumerate() {
                    let Some(s) = *s else { continue };
                    let base = self.atomes[a][d];
                    let mut candidats: Vec<((usize, u64), u32)> = (0..self.ancetres[d].len() as u32)
                        .filter(|&f| {
                            self.anc(d, f, s - 1) == self.anc(d, base, s - 1)
                                && self.anc(d, f, s) != self.anc(d, base, s)
                        })
                        .filter_map(|f| {
                            let mut corner = self.atomes[a].clone();
                            corner[d] = f;
                            self.atome
                                .contains_key(&corner)
                                .then(|| (self.cout(&[corner], &perturbees, valeurs, masque).0, f))
                        })
                        .collect();
                    if candidats.is_empty() {
                        possible = false;
                        break;
                    }
                    candidats.sort();
                    choix.push((d, candidats.into_iter().take(PARTENAIRES_GARDES).map(|(_, f)| f).collect()));
                }
                if !possible {
                    continue;
                }
                for pick in produit(&choix) {
                    let Some(corners) = self.coins(a, &choix, &pick) else { continue };
                    let (cout, cells) = self.cout(&corners, &perturbees, valeurs, masque);
                    if best.as_ref().is_none_or(|(b, _)| cout < *b) {
                        best = Some((cout, cells));
                    }
                }
            }
        }
        best.map(|(_, cells)| cells)
    }

    fn anc(&self, d: usize, f: u32, l: usize) -> u32 {
        self.ancetres[d][f as usize][l]
    }

    /// The corner atoms of base `a` with partner `pick[i]` in dimension `choix[i].0`,
    /// when they all exist.
    fn coins(&self, a: usize, choix: &[(usize, Vec<u32>)], pick: &[u32]) -> Option<Vec<Vec<u32>>> {
        let mut corners = vec![self.atomes[a].clone()];
        for ((d, _), &f) in choix.iter().zip(pick) {
            let others: Vec<Vec<u32>> = corners
                .iter()
                .map(|c| {
                    let mut o = c.clone();
                    o[*d] = f;
                    o
                })
                .collect();
            corners.extend(others);
        }
        corners.iter().all(|c| self.atome.contains_key(c)).then_some(corners)
    }

    /// The published cells of the perturbed tables that the corners fall in, and their
    /// cost: how many, then their sum.
    fn cout(
        &self,
        corners: &[Vec<u32>],
        perturbees: &[usize],
        valeurs: &[u64],
        masque: &[bool],
    ) -> ((usize, u64), Vec<usize>) {
        let mut cells = Vec::new();
        for &m in perturbees {
            for corner in corners {
                let key: Vec<u32> =
                    corner.iter().enumerate().map(|(d, &f)| self.anc(d, f, self.niveaux[m][d])).collect();
                if let Some(&x) = self.cellules.get(&(m, key))
                    && !masque[x]
                {
                    cells.push(x);
                }
            }
        }
        cells.sort_unstable();
        cells.dedup();
        let somme = cells.iter().map(|&x| valeurs[x]).sum();
        ((cells.len(), somme), cells)
    }
}

/// Every way to pair the dimensions a cell details: per dimension, not paired (None) or
/// paired at a level `s` from 1 to the cell's level. At least one dimension is paired
/// when the cell details any (otherwise its move reaches the grand total).
fn plans(niveaux: &[usize]) -> Vec<Vec<Option<usize>>> {
    let mut all: Vec<Vec<Option<usize>>> = vec![Vec::new()];
    for &l in niveaux {
        all = all
            .into_iter()
            .flat_map(|p| std::iter::once(None).chain((1..=l).map(Some)).map(move |s| [p.clone(), vec![s]].concat()))
            .collect();
    }
    all.retain(|p| p.iter().any(Option::is_some));
    all
}

/// Every pick of one partner per paired dimension.
fn produit(choix: &[(usize, Vec<u32>)]) -> Vec<Vec<u32>> {
    let mut all: Vec<Vec<u32>> = vec![Vec::new()];
    for (_, options) in choix {
        all = all.into_iter().flat_map(|p| options.iter().map(move |&f| [p.clone(), vec![f]].concat())).collect();
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_pair_at_least_one_detailed_dimension() {
        // A cell detailing a two-level dimension at its finest and not the other.
        let p = plans(&[2, 0]);
        assert_eq!(p, vec![vec![Some(1), None], vec![Some(2), None]]);
        assert!(plans(&[0, 0]).is_empty());
    }

    /// Atoms by commune, QPV and household type (QPVs lie in one commune, as in the
    /// extract), their tables, and the cells numbered as publication.rs numbers them.
    fn systeme() -> (Vec<Dimension>, Vec<Table>, Vec<usize>, reperage_secret::Probleme) {
        use super::super::cube::Atome;
        use super::super::dimensions::{HORS_QPV, Niveau};
        use super::super::tables;
        use std::collections::BTreeMap;
        let dims = vec![
            Dimension { nom: "commune", niveaux: vec![Niveau::Departement, Niveau::Commune] },
            Dimension { nom: "qpv", niveaux: vec![Niveau::EnQpv, Niveau::Qpv] },
            Dimension { nom: "type_foyer", niveaux: vec![Niveau::TypeFoyer] },
        ];
        let mut atomes = BTreeMap::new();
        let mut n = 0u64;
        for commune in ["93001", "93002", "93003", "94001", "94002"] {
            let qpvs = [HORS_QPV.to_string(), format!("QP0{commune}"), format!("QP1{commune}")];
            for qpv in qpvs.iter().take(if commune == "93003" { 1 } else { 3 }) {
                for t in ["seul", "couple sans enfant", "famille monoparentale"] {
                    n += 1;
                    let mut a = Atome::default();
                    a.comptes[0] = (n * 7) % 23;
                    atomes.insert(vec![commune.to_string(), qpv.clone(), t.to_string()], a);
                }
            }
        }
        let tables = tables::tables(&dims, &atomes);
        let mut offsets = Vec::new();
        let mut total = 0;
        for t in &tables {
            offsets.push(total);
            total += t.lignes.len();
        }
        let valeurs = tables.iter().flat_map(|t| t.lignes.iter().map(|(_, a)| a.comptes[0])).collect();
        let relations = tables::relations(&dims, &tables)
            .into_iter()
            .map(|rel| rel.into_iter().map(|((t, r), k)| (offsets[t] + r, k)).collect())
            .collect();
        (dims, tables, offsets, reperage_secret::Probleme { valeurs, relations })
    }

    #[test]
    fn hiding_its_hypercube_makes_any_cell_unrecoverable() {
        let (dims, tables, offsets, p) = systeme();
        let h = Hypercubes::new(&dims, &tables, &offsets);
        let mut found = 0;
        for c in 0..p.valeurs.len() {
            let mut masque = vec![false; p.valeurs.len()];
            masque[c] = true;
            let Some(autour) = h.autour(c, &p.valeurs, &masque) else { continue };
            found += 1;
            for x in autour {
                masque[x] = true;
            }
            let hidden = masque.iter().filter(|m| **m).count();
            assert!(hidden > 1, "cell {c} hidden alone");
            assert!(
                !reperage_secret::recuperables_exact(&p, &masque).contains(&c),
                "cell {c} (table {:?}) recoverable with its hypercube of {hidden} cells",
                tables[offsets.partition_point(|&o| o <= c) - 1].niveaux
            );
        }
        // Every cell but the grand total (nothing to pair it with) has one.
        assert_eq!(found, p.valeurs.len() - 1);
    }
}
