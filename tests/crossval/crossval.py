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
GROSS = {"salaire": "salaire_de_base", "independant": "salaire_de_base", "retraite": "retraite_brute"}
NATIONALITE = {"francaise": "FR", "ue": "DE", "hors_ue": "DZ"}
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
    year = [month_add(mois, -k) for k in range(0, 13)]
    individus, familles, menages, foyers_fiscaux = {}, {}, {}, {}
    for fid, f in foyers.items():
        people = members[fid]
        parents = [p["id_personne"] for p in people if p["role"] in ("allocataire", "conjoint")]
        enfants = [p["id_personne"] for p in people if p["role"] == "enfant"]
        autres = [p["id_personne"] for p in people if p["role"] == "autre"]
        for p in people:
            ind = {
                "date_naissance": {"ETERNITY": birth_date(p["date_naissance"])},
                "activite": {m: ACTIVITE.get(p["activite"], "inactif") for m in year},
                "enceinte": {m: p["enceinte"] == "1" for m in year},
                # OpenFisca's nationality defaults to French: give it explicitly. EU
                # citizens get a long residence (reperage does not evaluate theirs).
                "nationalite": {m: NATIONALITE.get(p["nationalite"], "FR") for m in year},
                "ressortissant_eee": {m: p["nationalite"] in ("francaise", "ue", "") for m in year},
                "duree_possession_titre_sejour": {
                    m: 10 if p["nationalite"] == "ue" else (5 if p["sejour_regulier_5ans"] == "1" else 0) for m in year
                },
                "apprenti": {m: p["activite"] == "apprenti" for m in year},
                # Benefits the extract would show in `droits` (none of these is generated):
                # OpenFisca would otherwise compute them and count them as RSA resources.
                "asi": {m: 0.0 for m in year},
                "ass": {m: 0.0 for m in year},
                "aah": {m: 0.0 for m in year},
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
        # The CSS reads them over the 12 months before: the same amount is pinned for the
        # whole year. `af_base` and `cf_non_majore_avant_cumul` are pinned to the amounts
        # in payment too: OpenFisca counts only the base AF and CF in the RSA and PPA
        # resources, while the extract gives only the amount paid (see docs/crossval.md).
        fam = {
            "parents": parents,
            "enfants": enfants,
            "aide_logement": {m: aide for m in year},
            "af": {m: paid[(fid, "af")] for m in year},
            "af_base": {m: paid[(fid, "af")] for m in year},
            "cf": {m: paid[(fid, "cf")] for m in year},
            "cf_non_majore_avant_cumul": {m: paid[(fid, "cf")] for m in year},
            "asf": {m: paid[(fid, "asf")] for m in year},
            "paje_base": {m: paid[(fid, "paje_base")] for m in year},
            # ASPA of the months before M (a CSS resource) as in payment; M is computed.
            "aspa": {m: paid[(fid, "aspa")] for m in year if m != mois},
        }
        if fid in separation:
            # Isolated within 12 months of the separation, from the month it happened
            # (the PPA reads each of the 3 months before M).
            sep = int(separation[fid][:4]) * 12 + int(separation[fid][5:7])
            fam["rsa_isolement_recent"] = {
                m: 0 <= (int(m[:4]) * 12 + int(m[5:7])) - sep < 12 for m in year
            }
        familles[fid] = fam
        conj = [p["id_personne"] for p in people if p["role"] == "conjoint"]
        alloc = [p["id_personne"] for p in people if p["role"] == "allocataire"]
        # An accédant repays a loan, which the extract does not give as a rent: OpenFisca
        # applies the forfait logement to owners and accédants without a repayment, so a
        # nominal repayment says "repaying a loan" (docs/crossval.md).
        loyer = num(f["loyer"]) or (1.0 if f["statut_logement"] == "accedant" else 0.0)
        menages[fid] = {
            "personne_de_reference": alloc,
            "conjoint": conj,
            "enfants": enfants + autres,
            "statut_occupation_logement": {m: LOGEMENT.get(f["statut_logement"], "locataire_vide") for m in year},
            "loyer": {m: loyer for m in year},
            # The commune: OpenFisca raises the CSS ceiling in the overseas regions.
            "depcom": {m: f["commune"] for m in year},
        }
        foyers_fiscaux[fid] = {"declarants": alloc + conj, "personnes_a_charge": enfants + autres}
        for pid in autres:
            familles[f"{fid}-autre-{pid}"] = {"parents": [pid]}
    return {"individus": individus, "familles": familles, "menages": menages, "foyers_fiscaux": foyers_fiscaux}


def build_simulation(tbs, situation):
    """The OpenFisca simulation of `situation` (the dict of `situations`), built with one
    array per variable and period rather than value by value: the same simulation as
    `SimulationBuilder().build_from_entities`, fast enough for 100,000 foyers."""
    import numpy
    from openfisca_core.indexed_enums import Enum
    from openfisca_core.simulation_builder import SimulationBuilder

    builder = SimulationBuilder()
    builder.create_entities(tbs)
    persons = list(situation["individus"])
    index = {p: i for i, p in enumerate(persons)}
    builder.declare_person_entity("individu", persons)
    inputs = [("individu", situation["individus"])]
    for entity in tbs.entities:
        if entity.is_person:
            continue
        groups = situation[entity.plural]
        population = builder.declare_entity(entity.key, list(groups))
        assignment, roles = [None] * len(persons), [None] * len(persons)
        for gid, group in groups.items():
            for role in entity.roles:
                members = group.get(role.plural or role.key, [])
                members = [members] if isinstance(members, str) else members
                for k, pid in enumerate(members):
                    assignment[index[pid]] = gid
                    roles[index[pid]] = role.subroles[k].key if role.subroles else role.key
        missing = [persons[i] for i, g in enumerate(assignment) if g is None]
        assert not missing, f"persons without a {entity.key}: {missing[:5]}"
        builder.join_with_persons(population, assignment, roles)
        inputs.append((entity.key, groups))
    sim = builder.build(tbs)
    for entity_key, instances in inputs:
        count = len(instances)
        columns = collections.defaultdict(dict)  # (variable, period) -> {position: value}
        for pos, values in enumerate(instances.values()):
            for var, by_period in values.items():
                if isinstance(by_period, dict):
                    for period, v in by_period.items():
                        columns[(var, period)][pos] = v
        # Months before longer periods, as the builder does (set_input dispatches).
        for (var, period), cells in sorted(columns.items(), key=lambda kv: (kv[0][1] == "ETERNITY", kv[0])):
            variable = tbs.variables[var]
            array = variable.default_array(count)
            if variable.value_type == Enum:
                raw = [variable.default_value.name] * count
                for pos, v in cells.items():
                    raw[pos] = v
                array = variable.possible_values.encode(numpy.array(raw, dtype=str))
            else:
                for pos, v in cells.items():
                    array[pos] = v
            sim.set_input(var, period, array)
    return sim


# The April 2025 CSS ceiling is missing from OpenFisca-France 176.1.8 (it keeps the April
# 2024 one): the harness adds it, with the value reperage uses (rules/parametres/css.toml).
CSS_PLAFOND_2025_04 = 10339.0

# Parameters of the prime d'activité that reperage takes at the month M the prime is due,
# where OpenFisca takes those of each of the three reference months (docs/crossval.md).
PPA_PARAMETRES = [
    "prestations_sociales.solidarite_insertion.minima_sociaux.ppa.pa_m.montant_de_base",
    "prestations_sociales.solidarite_insertion.minima_sociaux.ppa.pa_m.majoration_ressources_revenus_activite",
    "prestations_sociales.solidarite_insertion.minima_sociaux.ppa.pa_m.bonification.seuil_max_bonification",
    "prestations_sociales.solidarite_insertion.minima_sociaux.ppa.pa_m.bonification.taux_bonification_max",
]


DEBUG_VARIABLES = [
    "rsa", "rsa_base_ressources", "rsa_forfait_logement", "rsa_majore_eligibilite", "rsa_eligibilite",
    "ppa", "ppa_fictive", "ppa_eligibilite", "ppa_eligibilite_apprenants", "ppa_base_ressources",
    "ppa_revenu_activite", "ppa_forfait_logement", "ppa_fictive_montant_forfaitaire",
    "ppa_base_ressources_prestations_familiales", "rsa_forfait_asf",
    "css_cmu_base_ressources", "cmu_c_plafond", "acs_plafond", "aspa", "aspa_eligibilite",
]


def parameter(tbs, path):
    node = tbs.parameters
    for part in path.split("."):
        node = getattr(node, part)
    return node


def adjust_parameters(tbs, mois, align_ppa):
    from openfisca_core import periods

    plafond = parameter(tbs, "prestations_sociales.solidarite_insertion.minima_sociaux.cs.cmu.plafond_base")
    plafond.update(start=periods.instant("2025-04-01"), value=CSS_PLAFOND_2025_04)
    if align_ppa:
        reference = periods.period(f"month:{month_add(mois, -3)}:3")
        for path in PPA_PARAMETRES:
            node = parameter(tbs, path)
            node.update(period=reference, value=node(f"{mois}-01"))
    tbs._parameters_at_instant_cache = {}


def openfisca_results(sim, benefit, mois, famille_ids, rsa_paid):
    """Per famille: (eligible, monthly amount or None when the benefit has no amount)."""
    if benefit == "css":
        # Free CSS: resources under the ceiling, or the RSA. OpenFisca tests the RSA it
        # computes itself; reperage (and the law, L861-2) the RSA in payment: the harness
        # applies OpenFisca's resource base and ceilings with the RSA in payment.
        base = sim.calculate("css_cmu_base_ressources", mois)
        plafond = sim.calculate("cmu_c_plafond", mois)
        plafond_participation = sim.calculate("acs_plafond", mois)
        pre = sim.calculate("css_cmu_acs_eligibilite", mois)
        out = {}
        for i, fid in enumerate(famille_ids):
            eligible = bool(pre[i]) and (rsa_paid.get(fid, False) or base[i] <= plafond_participation[i])
            out[fid] = (eligible, None)
        return out
    values = sim.calculate(benefit, mois)
    if len(values) != len(famille_ids):  # individual benefit: sum per family
        values = sim.populations["famille"].sum(values)
    return {fid: (float(v) > 0, float(v)) for fid, v in zip(famille_ids, values)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("extract")
    ap.add_argument("eligibilites")
    ap.add_argument("mois")
    ap.add_argument("--benefits", default="aspa,rsa,ppa,css")
    ap.add_argument("--worst", type=int, default=8)
    ap.add_argument(
        "--ppa-parametres-par-mois",
        action="store_true",
        help="keep OpenFisca's parameters of each reference month for the PPA (no alignment)",
    )
    ap.add_argument("--debug", metavar="ID_FOYER", help="print OpenFisca's intermediate variables for one foyer")
    a = ap.parse_args()

    from openfisca_france import FranceTaxBenefitSystem

    tbs = FranceTaxBenefitSystem()
    adjust_parameters(tbs, a.mois, align_ppa=not a.ppa_parametres_par_mois)
    situation = situations(a.extract, a.mois)
    sim = build_simulation(tbs, situation)
    ours = {r["id_foyer"]: r for r in read(a.eligibilites)}
    famille_ids = list(situation["familles"].keys())
    rsa_paid = {r["id_foyer"]: r["rsa_en_paiement"] == "true" for r in ours.values()}
    if a.debug:
        i = famille_ids.index(a.debug)
        for var in DEBUG_VARIABLES:
            try:
                v = sim.calculate(var, a.mois)
            except Exception as e:  # a variable of another entity or period
                print(f"  {var}: {e}")
                continue
            print(f"  {var}: {v[i] if len(v) == len(famille_ids) else '(not a famille variable)'}")
        return 0
    ok = True
    for b in a.benefits.split(","):
        theirs = openfisca_results(sim, b, a.mois, famille_ids, rsa_paid)
        agree_elig = agree_amount = undetermined = n = 0
        gaps = []
        for fid, r in ours.items():
            statut, montant = r[f"{b}_statut"], num(r.get(f"{b}_montant"))
            if statut == "indetermine":
                undetermined += 1
                continue
            n += 1
            of_eligible, of = theirs.get(fid, (False, 0.0))
            if (statut == "eligible") == of_eligible:
                agree_elig += 1
            elif of is None:
                gaps.append((1.0, fid, statut, "eligible" if of_eligible else "non_eligible"))
            if of is not None:
                if abs((montant or 0.0) - of) <= 1.0:
                    agree_amount += 1
                else:
                    gaps.append((abs((montant or 0.0) - of), fid, f"{montant or 0.0:.2f}", f"{of:.2f}"))
        gaps.sort(reverse=True)
        print(f"{b}: {n} foyers compared ({undetermined} undetermined on reperage's side, left out)")
        if n == 0:
            ok = False
            continue
        has_amount = any(of is not None for _, of in theirs.values())
        share = (agree_amount if has_amount else agree_elig) / n
        amount = f"   amount within 1 €: {agree_amount / n:.2%}" if has_amount else "   (no amount: benefit in kind)"
        print(f"  eligibility agrees: {agree_elig / n:.2%}{amount}")
        for gap, fid, m, of in gaps[: a.worst]:
            print(f"  gap {gap:8.2f}  {fid}: reperage {m}, OpenFisca {of}")
        ok = ok and share >= 0.99
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
