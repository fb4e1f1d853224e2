"""Cross-check of reperage's eligibilites against OpenFisca-France.

Usage (see run.sh, which prepares everything):
    python crossval.py EXTRACT_DIR ELIGIBILITES_CSV YYYY-MM [--benefits rsa,aspa]

Every foyer of the extract becomes an OpenFisca situation for the month; OpenFisca
computes the same benefits; the script prints, per benefit, the share of foyers that
agree on eligibility and on the amount within 1 €, and the largest gaps with foyer ids.

What the extract says is given to OpenFisca as inputs; what reperage takes from the
`droits` table (housing aid, family benefits, AAH, ASPA in payment) is pinned as an input
too, so both compute from the same facts. Undetermined foyers on reperage's side are
counted apart (OpenFisca has no notion of unknown).
"""

import argparse
import calendar
import csv
import collections
import os
import sys


def read(path):
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f, delimiter=";"))


def num(s):
    return float(s.replace(",", ".")) if s not in (None, "") else None


def month_add(m, k):
    y, mo = int(m[:4]), int(m[5:7])
    i = y * 12 + mo - 1 + k
    return f"{i // 12:04d}-{i % 12 + 1:02d}"


def birth_date(s):
    # Month-only birth dates count as the last day of the month (docs/extract.md).
    if len(s) == 7:
        y, m = int(s[:4]), int(s[5:7])
        return f"{s}-{calendar.monthrange(y, m)[1]:02d}"
    return s


NATURE = {
    "salaire": "salaire_net",
    "independant": "salaire_net",  # approximation: OpenFisca treats self-employment apart
    "chomage": "chomage_net",
    "indemnites_journalieres": "indemnites_journalieres",
    "retraite": "retraite_nette",
    "invalidite": "pensions_invalidite",
    "pension_alimentaire": "pensions_alimentaires_percues",
}
ACTIVITE = {
    "salarie": "actif", "independant": "actif", "apprenti": "actif", "chomeur": "chomeur",
    "etudiant": "etudiant", "retraite": "retraite", "inactif": "inactif", "invalide": "inactif",
}
# The ASPA counts gross pensions and gross wages: OpenFisca reads them from these
# variables. The extract gives `montant_brut` only sometimes; reperage's ASPA rule counts
# net amounts (a stated simplification), so the net amount stands in when no gross is given.
GROSS = {"salaire": "salaire_de_base", "retraite": "retraite_brute"}
LOGEMENT = {
    "locataire": "locataire_vide", "locataire_meuble": "locataire_meuble", "proprietaire": "proprietaire",
    "accedant": "primo_accedant", "heberge_gratuit": "loge_gratuitement", "foyer": "locataire_foyer",
    "sans_domicile": "sans_domicile",
}


def situations(extract, mois):
    foyers = {f["id_foyer"]: f for f in read(os.path.join(extract, "foyers.csv"))}
    members = collections.defaultdict(list)
    for p in read(os.path.join(extract, "personnes.csv")):
        members[p["id_foyer"]].append(p)
    income = collections.defaultdict(lambda: collections.defaultdict(float))
    window = {month_add(mois, -k) for k in range(1, 13)}
    for r in read(os.path.join(extract, "ressources.csv")):
        if r["mois"] not in window:
            continue
        var = NATURE.get(r["nature"])
        if var:
            income[r["id_personne"]][(var, r["mois"])] += num(r["montant"]) or 0.0
        gross = GROSS.get(r["nature"])
        if gross:
            amount = num(r.get("montant_brut")) or num(r["montant"]) or 0.0
            income[r["id_personne"]][(gross, r["mois"])] += amount
    first = mois + "-01"
    last = f"{mois}-{calendar.monthrange(int(mois[:4]), int(mois[5:7]))[1]:02d}"
    paid = collections.defaultdict(float)
    for d in read(os.path.join(extract, "droits.csv")):
        if d["date_debut"] <= last and (not d["date_fin"] or d["date_fin"] >= first):
            paid[(d["id_foyer"], d["prestation"])] += num(d["montant_mensuel"]) or 0.0
    separation = {}
    for e in read(os.path.join(extract, "evenements.csv")):
        if e["type"] == "separation" and e["date"] <= last:
            separation[e["id_foyer"]] = max(separation.get(e["id_foyer"], ""), e["date"])

    recent = [month_add(mois, -k) for k in range(0, 4)]
    individus, familles, menages, foyers_fiscaux = {}, {}, {}, {}
    for fid, f in foyers.items():
        people = members[fid]
        parents = [p["id_personne"] for p in people if p["role"] in ("allocataire", "conjoint")]
        enfants = [p["id_personne"] for p in people if p["role"] == "enfant"]
        autres = [p["id_personne"] for p in people if p["role"] == "autre"]
        for p in people:
            ind = {
                "date_naissance": {"ETERNITY": birth_date(p["date_naissance"])},
                "activite": {mois: ACTIVITE.get(p["activite"], "inactif")},
                "enceinte": {mois: p["enceinte"] == "1"},
                "ressortissant_eee": {mois: p["nationalite"] in ("francaise", "ue", "")},
                "duree_possession_titre_sejour": {mois: 5 if p["sejour_regulier_5ans"] == "1" else 0},
                # Benefits the extract would show in `droits` (none of these is generated):
                # OpenFisca would otherwise compute them and count them as RSA resources.
                "asi": {m: 0.0 for m in recent},
                "ass": {m: 0.0 for m in recent},
                "aah": {m: 0.0 for m in recent},
            }
            for (var, m), v in income[p["id_personne"]].items():
                ind.setdefault(var, {})[m] = v
            # OpenFisca reads month M itself (neutralisation of income that stops):
            # the month continues the previous one.
            for var, values in list(ind.items()):
                if (var in NATURE.values() or var in GROSS.values()) and month_add(mois, -1) in values:
                    values[mois] = values[month_add(mois, -1)]
            individus[p["id_personne"]] = ind
        aide = sum(paid[(fid, c)] for c in ("al", "apl", "als"))
        # Benefits in payment are taken as paid at the same amount over the 3 months
        # before and the month itself (the RSA resource base reads the 3 months before).
        fam = {
            "parents": parents,
            "enfants": enfants,
            "aide_logement": {m: aide for m in recent},
            "af": {m: paid[(fid, "af")] for m in recent},
            "cf": {m: paid[(fid, "cf")] for m in recent},
            "asf": {m: paid[(fid, "asf")] for m in recent},
            "paje_base": {m: paid[(fid, "paje_base")] for m in recent},
        }
        if fid in separation:
            months = (int(mois[:4]) * 12 + int(mois[5:7])) - (int(separation[fid][:4]) * 12 + int(separation[fid][5:7]))
            fam["rsa_isolement_recent"] = {mois: months < 12}
        familles[fid] = fam
        conj = [p["id_personne"] for p in people if p["role"] == "conjoint"]
        alloc = [p["id_personne"] for p in people if p["role"] == "allocataire"]
        menages[fid] = {
            "personne_de_reference": alloc,
            "conjoint": conj,
            "enfants": enfants + autres,
            "statut_occupation_logement": {mois: LOGEMENT.get(f["statut_logement"], "locataire_vide")},
            "loyer": {mois: num(f["loyer"]) or 0.0},
        }
        foyers_fiscaux[fid] = {"declarants": alloc + conj, "personnes_a_charge": enfants + autres}
        for pid in autres:
            familles[f"{fid}-autre-{pid}"] = {"parents": [pid]}
    return {"individus": individus, "familles": familles, "menages": menages, "foyers_fiscaux": foyers_fiscaux}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("extract")
    ap.add_argument("eligibilites")
    ap.add_argument("mois")
    ap.add_argument("--benefits", default="rsa,aspa")
    ap.add_argument("--worst", type=int, default=8)
    a = ap.parse_args()

    from openfisca_core.simulation_builder import SimulationBuilder
    from openfisca_france import FranceTaxBenefitSystem

    tbs = FranceTaxBenefitSystem()
    situation = situations(a.extract, a.mois)
    sim = SimulationBuilder().build_from_entities(tbs, situation)
    ours = {r["id_foyer"]: r for r in read(a.eligibilites)}
    famille_ids = list(situation["familles"].keys())
    ok = True
    for b in a.benefits.split(","):
        values = sim.calculate(b, a.mois)
        if len(values) != len(famille_ids):  # individual benefit: sum per family
            values = sim.populations["famille"].sum(values)
        theirs = dict(zip(famille_ids, (float(v) for v in values)))
        agree_elig = agree_amount = undetermined = n = 0
        gaps = []
        for fid, r in ours.items():
            statut, montant = r[f"{b}_statut"], num(r[f"{b}_montant"])
            if statut == "indetermine":
                undetermined += 1
                continue
            n += 1
            of = theirs.get(fid, 0.0)
            if (statut == "eligible") == (of > 0):
                agree_elig += 1
            if abs((montant or 0.0) - of) <= 1.0:
                agree_amount += 1
            else:
                gaps.append((abs((montant or 0.0) - of), fid, montant or 0.0, of))
        gaps.sort(reverse=True)
        share = agree_amount / n if n else 0.0
        print(f"{b}: {n} foyers compared ({undetermined} undetermined on reperage's side, left out)")
        print(f"  eligibility agrees: {agree_elig / n:.2%}   amount within 1 €: {share:.2%}")
        for gap, fid, m, of in gaps[: a.worst]:
            print(f"  gap {gap:8.2f} €  {fid}: reperage {m:.2f}, OpenFisca {of:.2f}")
        ok = ok and share >= 0.99
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
