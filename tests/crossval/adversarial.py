"""Adversarial households for the cross-check, drawn independently of reperage's generator.

The households a caisse really has, and those where a rule engine is most likely wrong:
couples of mixed ages (one member 65 or more, the other not; one under 25), students,
apprentices and the self-employed in couples, 1 to 6 children of every age with many
around 3, 14, 18, 20 and 25, single parents, non-EU nationals with and without their
residence permits, pensions and wages given with and without their gross amount,
resources that change inside the reference months, benefits that start or stop inside
them, incomes in a ±5 % band around every ceiling and kink of the four benefits, N-2
incomes around the ceilings of the family benefits (AF, PAJE, complément familial with
its increased amount and differential, allocation de rentrée scolaire), children in
school or not (or unknown) from 16, partial resource histories, overseas communes; for
the housing aid, tenants of every zone, furnished or not, in colocation or not, with
rents around their loyer plafond and its degressivity and suppression thresholds, and
incomes around R0.

Nothing here reads reperage's rules or code: the thresholds the incomes are drawn around
are the published values (to land near them, not to compute anything), and the family
benefits in payment are computed by OpenFisca-France in a first pass (crossval.py).

The extract follows the contract (docs/extract.md): CSV `;`, decimal comma, 14 months of
resources before the reference month.
"""

import calendar
import random

# Published monthly values the incomes are drawn around (to fall either side of them).
# RSA / prime d'activité montants forfaitaires, ASPA and CSS ceilings, SMIC.
SEUILS = {
    "2025-03": {"rsa": 635.71, "ppa": 622.63, "aspa_seul": 12411.44 / 12, "aspa_couple": 19268.80 / 12, "css": 10166 / 12, "smic": 11.88,
                "asf": 196.84, "cf": 194.27},
    "2025-05": {"rsa": 646.52, "ppa": 633.21, "aspa_seul": 12411.44 / 12, "aspa_couple": 19268.80 / 12, "css": 10339 / 12, "smic": 11.88,
                "asf": 200.18, "cf": 197.58},
    "2026-05": {"rsa": 651.69, "ppa": 638.28, "aspa_seul": 12523.14 / 12, "aspa_couple": 19442.21 / 12, "css": 10422 / 12, "smic": 12.02,
                "asf": 201.78, "cf": 199.15},
}
# The annual N-2 income ceilings of the allocations familiales (two children; the
# majoration per further child), published each December for the next year.
AF_PLAFONDS = {
    "2023": {"tranche_1": 71194, "tranche_2": 94893, "par_enfant": 5932},
    "2024": {"tranche_1": 74966, "tranche_2": 99922, "par_enfant": 6246},
    "2025": {"tranche_1": 78565, "tranche_2": 104719, "par_enfant": 6546},
    "2026": {"tranche_1": 79980, "tranche_2": 106604, "par_enfant": 6664},
}

# The N-2 ceilings of the PAJE's allocation de base (full rate, also the complément
# familial's; partial rate): without children, the majoration for a single parent or two
# earners; each raised by 25 % for each of the first two children, 30 % for the others.
PAJE_PLAFONDS = {
    "2025": {"plein": 24414, "plein_majoration": 9812, "partiel": 29169, "partiel_majoration": 11725},
    "2026": {"plein": 24853, "plein_majoration": 9989, "partiel": 29694, "partiel_majoration": 11936},
}
# Twelve BMAF of 1 January N-2: each parent's N-2 income from which a couple has two earners.
BIACTIVITE = {"2025": 12 * 439.17, "2026": 12 * 445.93}
# The complément familial: the ceilings of its increased amount (published with the
# others; the base ceilings are PAJE_PLAFONDS' full rate; its monthly base amount is
# SEUILS' "cf", whose twelve months are the width of the differential).
CF_PLAFONDS = {
    "2025": {"majore": 12209, "majore_majoration": 4907},
    "2026": {"majore": 12429, "majore_majoration": 4995},
}
# The allocation de rentrée scolaire's N-2 ceiling without children (raised 30 % per child;
# also the complément familial's overseas), and its amount per child of 6 to 10 in August
# (the others are within 10 % of it).
ARS_PLAFONDS = {"2025": 21880, "2026": 22274}
ARS_MONTANT = {"2025": 425.60, "2026": 429.01}

# Housing aid (arrêté du 27 septembre 2019, revalued each 1 October; R0 each 1 January):
# the loyers plafonds by zone (personne seule, couple, one person à charge, each further
# one) and the R0 (seul, couple, one to six persons à charge), to draw rents around the
# ceilings and the degressivity thresholds (3,4 / 2,5 / 2,5 times the ceiling; 4 / 3,1 /
# 3,1 for the suppression) and incomes around R0.
LOYERS_PLAFONDS = {
    "2024-10": {1: (329.71, 397.64, 449.43, 65.21), 2: (287.35, 351.72, 395.77, 57.61), 3: (269.32, 326.48, 366.07, 52.47)},
    "2025-10": {1: (333.14, 401.78, 454.10, 65.89), 2: (290.34, 355.38, 399.89, 58.21), 3: (272.12, 329.88, 369.88, 53.01)},
    "2026-10": {1: (336.97, 406.40, 459.32, 66.65), 2: (293.68, 359.47, 404.49, 58.88), 3: (275.25, 333.67, 374.13, 53.62)},
}
R0 = {"2024": (5186, 7430, 8862, 9061, 9408, 9758, 10105, 10454), "2025": (5235, 7501, 8947, 9148, 9498, 9851, 10202, 10554)}
DEGRESSIVITE = {1: (3.4, 4.0), 2: (2.5, 3.1), 3: (2.5, 3.1)}


def loyer_plafond(mois, zone, couple, pac):
    period = max(p for p in LOYERS_PLAFONDS if p <= mois)
    seul, deux, un, plus = LOYERS_PLAFONDS[period][zone]
    return un + (pac - 1) * plus if pac else (deux if couple else seul)


def r0(mois, couple, pac):
    values = R0[min(mois[:4], max(R0))]
    return values[min(pac, 6) + 1] if pac else values[1 if couple else 0]


def housing(draw, mois, zone, members, statut):
    """The rent and colocation of a tenant foyer: often around its loyer plafond (its
    zone, its composition), its degressivity or suppression threshold; a furnished rent is
    retained for two thirds. Some foyers get the allocataire's income set around R0."""
    couple = any(m["role"] == "conjoint" for m in members)
    pac = sum(1 for m in members if m["role"] == "enfant" and m["age_m"] < 21 * 12)
    colocation = draw.chance(0.15)
    plafond = loyer_plafond(mois, zone, couple, pac) * (0.75 if colocation else 1.0)
    u = draw.r.random()
    if u < 0.35:
        retained = draw.near(plafond, 0.05)
    elif u < 0.5:
        retained = draw.near(plafond * DEGRESSIVITE[zone][0], 0.05)
    elif u < 0.6:
        retained = draw.near(plafond * DEGRESSIVITE[zone][1], 0.05)
    else:
        retained = draw.uniform(150, 900)
    loyer = round(retained * (1.5 if statut == "locataire_meuble" else 1.0), 2)
    if draw.chance(0.2):
        # Annual resources around R0, as a salary over the 14 months (after the 10 %
        # deduction the rules apply, whichever side of R0 it lands).
        alloc = next(m for m in members if m["role"] == "allocataire")
        level = draw.near(r0(mois, couple, pac), 0.12) / 0.9 / 12
        alloc["activite"] = "salarie"
        alloc["history"] = {m: [("salaire", round(level * draw.uniform(0.99, 1.01), 2), None)] for m in alloc["history"]}
        for m in members:
            if m["role"] == "conjoint":
                m["history"] = {k: [("autre", 0.0, None)] for k in m["history"]}
    return loyer, colocation


# Benefits paid once (a row dated the month paid), drawn in payment from OpenFisca's first
# pass like the monthly ones.
ONE_OFF = ("paje_naissance", "paje_adoption")

COMMUNES = [
    ("93008", 1, "931"), ("75056", 1, "751"), ("69123", 2, "691"), ("13055", 2, "131"),
    ("59350", 2, "591"), ("33063", 2, "331"), ("23096", 3, "231"), ("2A004", 3, "2A1"),
    ("97411", 3, "974"), ("97105", 3, "971"), ("97209", 3, "972"), ("48095", 3, "481"),
]


def month_add(m, k):
    y, mo = int(m[:4]), int(m[5:7])
    i = y * 12 + mo - 1 + k
    return f"{i // 12:04d}-{i % 12 + 1:02d}"


def month_index(m):
    return int(m[:4]) * 12 + int(m[5:7]) - 1


def last_day(m):
    return f"{m}-{calendar.monthrange(int(m[:4]), int(m[5:7]))[1]:02d}"


def money(v):
    return f"{v:.2f}".replace(".", ",")


def flag(b):
    return "" if b is None else ("1" if b else "0")


class Draw:
    """Random choices, with the edges drawn on purpose."""

    def __init__(self, seed):
        self.r = random.Random(seed)

    def chance(self, p):
        return self.r.random() < p

    def pick(self, items, weights=None):
        return self.r.choices(items, weights=weights)[0]

    def uniform(self, a, b):
        return self.r.uniform(a, b)

    def int(self, a, b):
        return self.r.randint(a, b)

    def age_months(self, edges, lo, hi):
        """An age in months: often within 3 months of an edge (in years), else uniform."""
        if edges and self.chance(0.45):
            return max(lo, min(hi, self.pick(edges) * 12 + self.int(-3, 3)))
        return self.int(lo, hi)

    def near(self, value, band=0.05):
        """A value in a ±`band` band around `value`."""
        return value * self.uniform(1 - band, 1 + band)


def birth_date(draw, mois, age_m):
    """A birth date such that the age at the first day of `mois` is `age_m` whole months."""
    m = month_add(mois, -age_m - 1)
    # Born in month m, after day 1: complete months at the first of `mois` = age_m.
    day = draw.int(2, calendar.monthrange(int(m[:4]), int(m[5:7]))[1])
    if draw.chance(0.1):
        return m  # month only: the contract's coarsened birth dates
    return f"{m}-{day:02d}"


def adult(draw, mois, role, age_m, seuils, rich):
    """An adult: activity, nationality, and a monthly income by nature for each of the 14
    months (a dict month -> list of (nature, net, gross or None))."""
    age_y = age_m // 12
    if age_y >= 62:
        activite = draw.pick(["retraite", "retraite", "retraite", "salarie", "inactif", "invalide"])
    elif age_y < 25:
        activite = draw.pick(["etudiant", "apprenti", "salarie", "chomeur", "inactif"])
    else:
        activite = draw.pick(["salarie", "salarie", "independant", "chomeur", "etudiant", "apprenti", "inactif", "invalide"],
                             weights=[30, 10, 8, 15, 5, 3, 15, 6])
    nationalite = draw.pick(["francaise", "ue", "hors_ue"], weights=[72, 10, 18])
    person = {
        "role": role,
        "age_m": age_m,
        "activite": activite,
        "nationalite": nationalite,
        "sejour_regulier_5ans": None, "sejour_regulier_10ans": None, "sejour_regulier": None,
        "enceinte": False,
        "taux_incapacite": draw.int(50, 90) if activite == "invalide" else None,
    }
    # Residence: the years of regular stay are nested (10 years implies 5 implies a
    # regular stay); sometimes unknown.
    if nationalite == "hors_ue":
        years = draw.pick([None, 0, 0, 3, 5, 7, 10, 20], weights=[8, 10, 5, 12, 10, 10, 15, 30])
        if years is not None:
            person["sejour_regulier"] = years > 0 or draw.chance(0.3)
            person["sejour_regulier_5ans"] = years >= 5
            person["sejour_regulier_10ans"] = years >= 10
    elif draw.chance(0.5):
        person["sejour_regulier_5ans"] = True
    # The level of the income: around a threshold most of the time.
    smic_mensuel = seuils["smic"] * 151.67 * 0.7916
    targets = [
        seuils["rsa"], seuils["rsa"] * 1.5, seuils["ppa"] * 1.6, seuils["aspa_seul"], seuils["aspa_couple"] / 2,
        seuils["css"], seuils["css"] * 1.35, seuils["smic"] * 59, seuils["smic"] * 92.95, seuils["smic"] * 120,
        seuils["smic"] * 138, smic_mensuel, smic_mensuel * 1.5,
    ]
    level = draw.near(draw.pick(targets), 0.05) if draw.chance(0.6) else draw.uniform(0, 3200)
    if rich:
        level *= draw.uniform(1.5, 3)
    nature = {
        "salarie": "salaire", "apprenti": "salaire", "independant": "independant", "retraite": "retraite",
        "invalide": "invalidite", "chomeur": "chomage", "etudiant": "salaire", "inactif": None,
    }[activite]
    if activite == "etudiant" and draw.chance(0.5):
        nature = None
    if activite == "chomeur" and draw.chance(0.25):
        nature = None
    gross_rate = {"salaire": draw.uniform(0.20, 0.23), "independant": draw.uniform(0.0, 0.15),
                  "retraite": draw.uniform(0.0, 0.09), "invalidite": draw.uniform(0.0, 0.09)}
    gives_gross = draw.chance(0.8)
    # A change inside the reference months: a job that starts or stops, a raise.
    change_at = draw.int(1, 6) if draw.chance(0.35) else None
    change_to = draw.pick([0.0, 0.5, 1.5, 2.0]) if change_at else 1.0
    extra = None
    if draw.chance(0.12):
        extra = (draw.pick(["pension_alimentaire", "indemnites_journalieres", "chomage", "autre", "bourse"]), draw.uniform(50, 600))
    history = {}
    for k in range(1, 15):
        m = month_add(mois, -k)
        rows = []
        if nature:
            factor = change_to if (change_at and k <= change_at) else 1.0
            net = round(level * factor * draw.uniform(0.97, 1.03), 2)
            gross = None
            if gives_gross and nature in gross_rate:
                gross = round(net / (1 - gross_rate[nature]), 2) if nature == "salaire" else round(net * (1 + gross_rate[nature]), 2)
            rows.append((nature, net, gross))
        if extra:
            rows.append((extra[0], round(extra[1], 2), None))
        if not rows:
            rows.append(("autre", 0.0, None))
        history[m] = rows
    # Partial histories: a month without any row.
    if draw.chance(0.05):
        history.pop(month_add(mois, -draw.int(1, 14)), None)
    person["history"] = history
    person["revenu_n2"] = round(level * 12 * draw.uniform(0.8, 1.2), 2) if draw.chance(0.95) else None
    return person


def child(draw, mois, max_age_m):
    age_m = draw.age_months([0, 1, 3, 5, 6, 11, 14, 15, 16, 18, 20, 21, 25], 0, max(0, max_age_m))
    # In school: presumed under 16 (sometimes left empty), to be said from 16 (the
    # allocation de rentrée scolaire needs it), sometimes not, sometimes unknown.
    if age_m >= 16 * 12:
        scolarise = draw.pick([True, False, None], weights=[85, 8, 7])
    else:
        scolarise = draw.pick([True, None], weights=[97, 3])
    c = {"role": "enfant", "age_m": age_m, "activite": None, "nationalite": "francaise", "enceinte": None,
         "sejour_regulier_5ans": None, "sejour_regulier_10ans": None, "sejour_regulier": None, "taux_incapacite": None,
         "revenu_n2": None, "history": {}, "scolarise": scolarise}
    if age_m >= 16 * 12 and draw.chance(0.2):
        level = draw.uniform(200, 1200)
        c["history"] = {month_add(mois, -k): [("salaire", round(level, 2), None)] for k in range(1, 15)}
        c["activite"] = "apprenti"
    return c


def n2_near_af_ceiling(draw, mois, members):
    """The parents' N-2 incomes set so that the foyer's lands near a ceiling of the
    allocations familiales for its children under 20: either side of it, just above it
    (where the complément dégressif smooths the drop), or on it; earned by one parent or
    shared by both."""
    plafonds = AF_PLAFONDS.get(mois[:4], AF_PLAFONDS["2025"])
    under_20 = sum(1 for m in members if m["role"] == "enfant" and m["age_m"] < 20 * 12)
    ceiling = draw.pick([plafonds["tranche_1"], plafonds["tranche_2"]]) + max(under_20 - 2, 0) * plafonds["par_enfant"]
    where = draw.pick(["near", "above", "on"], weights=[5, 4, 1])
    if where == "near":
        total = draw.near(ceiling, 0.05)
    elif where == "above":
        total = ceiling + draw.uniform(0, 2500)
    else:
        total = ceiling
    parents = [m for m in members if m["role"] in ("allocataire", "conjoint")]
    share = 1.0 if len(parents) == 1 or draw.chance(0.4) else draw.uniform(0.2, 0.8)
    first = round(total * share, 2)
    parents[0]["revenu_n2"] = first
    if len(parents) > 1:
        parents[1]["revenu_n2"] = round(total - first, 2)


def n2_near_paje_ceiling(draw, mois, members, a_naitre=0):
    """The parents' N-2 incomes set around a ceiling of the PAJE's allocation de base
    (full or partial rate) for the foyer's children (and `a_naitre` children to be born,
    whom the primes count); a couple's second income either side of twelve BMAF (two
    earners or one)."""
    plafonds = PAJE_PLAFONDS.get(mois[:4], PAJE_PLAFONDS["2025"])
    under_20 = sum(1 for m in members if m["role"] == "enfant" and m["age_m"] < 20 * 12) + a_naitre
    parents = [m for m in members if m["role"] in ("allocataire", "conjoint")]
    second, majoree = second_income(draw, mois, parents)
    rate = draw.pick(["plein", "partiel"])
    taux = 1 + 0.25 * min(under_20, 2) + 0.3 * max(under_20 - 2, 0)
    ceiling = plafonds[rate] * taux + (plafonds[f"{rate}_majoration"] if majoree else 0)
    total = draw.near(ceiling, 0.03) if draw.chance(0.8) else ceiling
    parents[0]["revenu_n2"] = round(max(total - second, 0.0), 2)
    if len(parents) > 1:
        parents[1]["revenu_n2"] = second


def second_income(draw, mois, parents):
    """A couple's second N-2 income either side of twelve BMAF (two earners or one), 0 for
    a single parent; and whether the ceilings are raised (single parent or two earners)."""
    seuil = BIACTIVITE.get(mois[:4], BIACTIVITE["2025"])
    if len(parents) == 1:
        return 0.0, True
    second = round(draw.near(seuil, 0.02) if draw.chance(0.5) else draw.uniform(seuil * 1.1, 20000), 2)
    return second, second >= seuil


def n2_near_cf_ceiling(draw, mois, members, dom, seuils):
    """The parents' N-2 incomes set around a ceiling of the complément familial for the
    foyer's children under 21: that of its increased amount, of its base amount, or the
    end of its differential (the ceiling plus twelve months of the base amount); overseas,
    the allocation de rentrée scolaire's ceiling and its half."""
    year = mois[:4]
    under_21 = sum(1 for m in members if m["role"] == "enfant" and m["age_m"] < 21 * 12)
    parents = [m for m in members if m["role"] in ("allocataire", "conjoint")]
    second, majoree = second_income(draw, mois, parents)
    montant = seuils["cf"]
    if dom:
        plafond = ARS_PLAFONDS.get(year, ARS_PLAFONDS["2025"]) * (1 + 0.3 * under_21)
        ceilings = [plafond / 2, plafond, plafond + 12 * montant]
    else:
        base = PAJE_PLAFONDS.get(year, PAJE_PLAFONDS["2025"])
        majore = CF_PLAFONDS.get(year, CF_PLAFONDS["2025"])
        taux = 1 + 0.25 * min(under_21, 2) + 0.3 * max(under_21 - 2, 0)
        plafond = base["plein"] * taux + (base["plein_majoration"] if majoree else 0)
        ceilings = [majore["majore"] * taux + (majore["majore_majoration"] if majoree else 0), plafond, plafond + 12 * montant]
    ceiling = draw.pick(ceilings)
    total = draw.near(ceiling, 0.03) if draw.chance(0.85) else ceiling
    parents[0]["revenu_n2"] = round(max(total - second, 0.0), 2)
    if len(parents) > 1:
        parents[1]["revenu_n2"] = second


def n2_near_ars_ceiling(draw, mois, members):
    """The parents' N-2 incomes set around the ceiling of the allocation de rentrée
    scolaire for the foyer's children under 20, or within its differential (above the
    ceiling by less than the allocation)."""
    year = mois[:4]
    under_20 = sum(1 for m in members if m["role"] == "enfant" and m["age_m"] < 20 * 12)
    school = sum(1 for m in members if m["role"] == "enfant" and 5 * 12 <= m["age_m"] < 19 * 12)
    ceiling = ARS_PLAFONDS.get(year, ARS_PLAFONDS["2025"]) * (1 + 0.3 * under_20)
    if draw.chance(0.5):
        total = draw.near(ceiling, 0.03)
    else:
        total = ceiling + draw.uniform(0, max(1, school) * ARS_MONTANT.get(year, ARS_MONTANT["2025"]) * 1.1)
    parents = [m for m in members if m["role"] in ("allocataire", "conjoint")]
    share = 1.0 if len(parents) == 1 or draw.chance(0.4) else draw.uniform(0.2, 0.8)
    parents[0]["revenu_n2"] = round(total * share, 2)
    if len(parents) > 1:
        parents[1]["revenu_n2"] = round(total - parents[0]["revenu_n2"], 2)


def pension_near_asf(draw, mois, members, seuils):
    """A pension alimentaire received by a single parent every month, drawn around the
    allocation de soutien familial of its children under 20 (the ASF is the difference,
    paid from 15 €): well under it, near it, above it; or paid until M-2 and not in M-1
    (R523-1: not paid for at least a month)."""
    under_20 = sum(1 for m in members if m["role"] == "enfant" and m["age_m"] < 20 * 12)
    if not under_20:
        return
    asf = seuils["asf"] * under_20
    where = draw.pick(["under", "near", "above", "stopped"], weights=[3, 4, 2, 1])
    amount = {"under": asf * draw.uniform(0.2, 0.8), "near": draw.near(asf - 15, 0.03) if draw.chance(0.5) else draw.near(asf, 0.03),
              "above": asf * draw.uniform(1.0, 2.0), "stopped": asf * draw.uniform(0.5, 1.5)}[where]
    alloc = members[0]
    for m, rows in alloc["history"].items():
        if where == "stopped" and m == month_add(mois, -1):
            continue
        rows.append(("pension_alimentaire", round(amount, 2), None))


def household(draw, mois, index, seuils, dom):
    """One foyer (overseas if `dom`): its members, dossier, and the facts the droits are
    drawn from."""
    fid = f"A{index:06d}"
    kind = draw.pick(["seul", "couple", "couple_enfants", "parent_isole", "age", "couple_mixte"],
                     weights=[22, 14, 22, 16, 16, 10])
    rich = draw.chance(0.08)
    members = []
    if kind == "age":
        a1 = draw.age_months([65, 70, 80], 64 * 12, 95 * 12)
        members.append(adult(draw, mois, "allocataire", a1, seuils, rich))
        if draw.chance(0.5):
            members.append(adult(draw, mois, "conjoint", draw.age_months([65, 62], 60 * 12, 95 * 12), seuils, rich))
    elif kind == "couple_mixte":
        # One member 65 or more, the other not; or one under 25 and the other 25 or more.
        if draw.chance(0.5):
            members.append(adult(draw, mois, "allocataire", draw.age_months([65, 66], 65 * 12, 85 * 12), seuils, rich))
            members.append(adult(draw, mois, "conjoint", draw.age_months([64, 60], 50 * 12, 64 * 12 + 11), seuils, rich))
        else:
            members.append(adult(draw, mois, "allocataire", draw.age_months([19, 24], 18 * 12, 24 * 12 + 11), seuils, rich))
            members.append(adult(draw, mois, "conjoint", draw.age_months([25, 26], 25 * 12, 40 * 12), seuils, rich))
        if draw.chance(0.5):
            members.reverse()
            members[0]["role"], members[1]["role"] = "allocataire", "conjoint"
    else:
        a1 = draw.age_months([18, 19, 21, 25, 26, 30, 45], 18 * 12, 70 * 12)
        members.append(adult(draw, mois, "allocataire", a1, seuils, rich))
        if kind in ("couple", "couple_enfants"):
            members.append(adult(draw, mois, "conjoint", draw.age_months([18, 19, 21, 25, 26, 30, 45], 18 * 12, 70 * 12), seuils, rich))
    parent_age = min(m["age_m"] for m in members)
    if kind in ("couple_enfants", "parent_isole"):
        n = draw.pick([1, 1, 2, 2, 3, 3, 4, 5, 6])
        for _ in range(n):
            members.append(child(draw, mois, min(25 * 12 + 6, parent_age - 16 * 12)))
    if kind in ("couple_enfants", "parent_isole") and draw.chance(0.5):
        if any(m["role"] == "enfant" and m["age_m"] < 36 for m in members) and draw.chance(0.5):
            n2_near_paje_ceiling(draw, mois, members)
        else:
            which = draw.pick(["af", "cf", "ars"], weights=[3, 4, 3])
            if which == "af":
                n2_near_af_ceiling(draw, mois, members)
            elif which == "cf":
                n2_near_cf_ceiling(draw, mois, members, dom, seuils)
            else:
                n2_near_ars_ceiling(draw, mois, members)
    if kind == "parent_isole" and draw.chance(0.5):
        pension_near_asf(draw, mois, members, seuils)
    if kind == "seul" and draw.chance(0.04):
        other = adult(draw, mois, "autre", draw.age_months([70], 60 * 12, 90 * 12), seuils, False)
        members.append(other)
    if len([m for m in members if m["role"] == "allocataire"]) == 1 and kind in ("seul", "parent_isole"):
        alloc = members[0]
        if alloc["age_m"] < 40 * 12 and draw.chance(0.06):
            alloc["enceinte"] = True
    if kind in ("couple", "couple_enfants") and draw.chance(0.08):
        # A declared pregnancy in a couple (the prime à la naissance), sometimes with N-2
        # incomes near the PAJE's partial-rate ceiling counting the child to be born.
        parent = draw.pick([m for m in members if m["role"] in ("allocataire", "conjoint")])
        if parent["age_m"] < 45 * 12:
            parent["enceinte"] = True
            if draw.chance(0.5):
                n2_near_paje_ceiling(draw, mois, members, a_naitre=1)
    return fid, kind, members


def generate(n, mois, seed, family_benefits):
    """The tables of an extract of `n` foyers for `mois`, as lists of rows (dicts).

    `family_benefits(tables)` computes, for the foyers and persons drawn (the tables
    without resources or rights), the monthly AF, CF and PAJE base they are entitled to
    in each month from M-14 to M (OpenFisca's first pass, from composition and N-2
    income); the droits put them in payment for most of them, one row per amount."""
    draw = Draw(seed)
    seuils = SEUILS.get(mois) or SEUILS["2025-05"]
    foyers, personnes, ressources, droits, evenements = [], [], [], [], []
    drawn = []
    for i in range(1, n + 1):
        commune, zone, caisse = draw.pick(COMMUNES)
        fid, kind, members = household(draw, mois, i, seuils, commune.startswith("97"))
        statut = draw.pick(["locataire", "locataire", "locataire", "locataire_meuble", "proprietaire", "accedant",
                            "heberge_gratuit", "foyer"])
        loyer, colocation = None, False
        if statut in ("locataire", "locataire_meuble"):
            loyer, colocation = housing(draw, mois, zone, members, statut)
        elif statut == "foyer":
            loyer = round(draw.uniform(200, 900), 2)
        foyers.append({
            "id_foyer": fid, "caisse": caisse, "agence": f"{caisse}-A1", "commune": commune, "iris": "", "qpv": "",
            "zone_logement": str(zone), "statut_logement": statut, "loyer": money(loyer) if loyer is not None else "",
            "logement_conventionne": flag(draw.chance(0.5)) if loyer is not None else "", "colocation": flag(colocation),
            "suivi_social": flag(draw.chance(0.1)), "declaration_annuelle": "recue", "dtr_derniere": "",
            "opposition_contact": flag(False), "canal_telephone": flag(True), "canal_sms": flag(True),
            "canal_email": flag(False), "canal_courrier": flag(True), "date_ouverture": "2015-01-01", "date_cloture": "",
        })
        for j, m in enumerate(members, 1):
            pid = f"{fid}-{j}"
            m["id"] = pid
            personnes.append({
                "id_personne": pid, "id_foyer": fid, "role": m["role"], "date_naissance": birth_date(draw, mois, m["age_m"]),
                "sexe": draw.pick(["F", "M"]), "nationalite": m["nationalite"] or "",
                "sejour_regulier_5ans": flag(m["sejour_regulier_5ans"]), "sejour_regulier_10ans": flag(m["sejour_regulier_10ans"]),
                "sejour_regulier": flag(m["sejour_regulier"]), "activite": m["activite"] or "",
                "enceinte": flag(m["enceinte"]), "taux_incapacite": str(m["taux_incapacite"]) if m["taux_incapacite"] else "",
                "rsdae": "", "scolarise": flag(m.get("scolarise")),
                "revenu_n2": money(m["revenu_n2"]) if m.get("revenu_n2") is not None else "", "date_deces": "",
                "medecin_traitant": flag(True), "complementaire_sante": "privee",
            })
            for mm, rows in sorted(m["history"].items()):
                for nature, net, gross in rows:
                    ressources.append({"id_personne": pid, "mois": mm, "nature": nature, "montant": money(net),
                                       "montant_brut": money(gross) if gross is not None else ""})
        # A separation within the last 18 months for some single parents (RSA/PPA majorés).
        if kind == "parent_isole" and draw.chance(0.3):
            sep = month_add(mois, -draw.int(0, 17))
            evenements.append({"id_foyer": fid, "id_personne": "", "type": "separation",
                               "date": f"{sep}-{draw.int(1, 28):02d}", "source": "allocataire"})
        # An adoption within the last two years (the prime à l'adoption), half of them in
        # the last four months: a child under 20 who arrived after its birth.
        enfants = [m for m in members if m["role"] == "enfant" and m["age_m"] < 20 * 12]
        if enfants and draw.chance(0.08):
            c = draw.pick(enfants)
            arrival = month_add(mois, -draw.int(0, min(4 if draw.chance(0.5) else 23, c["age_m"])))
            evenements.append({"id_foyer": fid, "id_personne": c["id"], "type": "adoption",
                               "date": f"{arrival}-{draw.int(1, 28):02d}", "source": "allocataire"})
        drawn.append((fid, kind, members, statut, loyer, commune))

    # Rights. A right starts long ago, or inside the reference months (M-5 … M-1); some
    # stopped in them.
    def dates():
        u = draw.r.random()
        if u < 0.15:
            start = f"{month_add(mois, -draw.int(1, 5))}-01"
        else:
            start = f"{month_add(mois, -draw.int(6, 60))}-01"
        end = ""
        if draw.chance(0.06):
            end = last_day(month_add(mois, -draw.int(1, 4)))
            if end < start:
                end = ""
        return start, end

    def right(fid, code, amount, person=""):
        start, end = dates()
        droits.append({"id_foyer": fid, "id_personne": person, "prestation": code, "date_debut": start, "date_fin": end,
                       "montant_mensuel": money(amount) if amount is not None else ""})

    def family_right(fid, code, by_month):
        """A family benefit in payment from a drawn start to M, one row per amount (the
        amount changes with the revaluations, the children's ages, a birth)."""
        start, _ = dates()
        rows = []
        for k in range(14, -1, -1):
            m = month_add(mois, -k)
            amount = by_month.get(m, 0.0)
            if f"{m}-01" < start or amount <= 0:
                continue
            if rows and rows[-1]["montant"] == amount and rows[-1]["last"] == month_add(m, -1):
                rows[-1]["last"] = m
            else:
                rows.append({"first": m, "last": m, "montant": amount})
        for i, r in enumerate(rows):
            first = f"{r['first']}-01"
            if i == 0 and r["first"] == month_add(mois, -14) and start < first:
                first = start  # a right older than the window
            end = "" if r["last"] == mois else last_day(r["last"])
            droits.append({"id_foyer": fid, "id_personne": "", "prestation": code, "date_debut": first, "date_fin": end,
                           "montant_mensuel": money(r["montant"])})

    computed = family_benefits({"foyers": foyers, "personnes": personnes, "ressources": [], "droits": [],
                                "evenements": evenements})
    for fid, kind, members, statut, loyer, commune in drawn:
        adults = [m for m in members if m["role"] in ("allocataire", "conjoint")]
        monthly = sum(net for m in adults for net in [sum(r[1] for r in m["history"].get(month_add(mois, -1), []))])
        if loyer is not None and monthly < 2200 and draw.chance(0.6):
            code = "als" if statut == "foyer" else draw.pick(["al", "apl"])
            right(fid, code, round(draw.uniform(40, 420), 2))
        for code, by_month in computed.get(fid, {}).items():
            if code in ONE_OFF:
                # A prime, paid once in the month it was due (a row of that month).
                for m, amount in sorted(by_month.items()):
                    if amount > 0 and draw.chance(0.93):
                        droits.append({"id_foyer": fid, "id_personne": "", "prestation": code, "date_debut": f"{m}-01",
                                       "date_fin": last_day(m), "montant_mensuel": money(amount)})
            elif by_month.get(mois, 0) > 0 and draw.chance(0.93):
                family_right(fid, code, by_month)
        for m in adults:
            if m["activite"] == "invalide" and (m["taux_incapacite"] or 0) >= 80 and draw.chance(0.6):
                right(fid, "aah", round(draw.uniform(200, 1033), 2), m["id"])
            if m["age_m"] >= 65 * 12 and monthly < 1600 and draw.chance(0.35):
                right(fid, "aspa", round(draw.uniform(30, 1035), 2), m["id"])
            if m["activite"] == "invalide" and m["age_m"] < 62 * 12 and draw.chance(0.08):
                right(fid, "asi", round(draw.uniform(30, 800), 2), m["id"])
        if monthly < 900 and draw.chance(0.25):
            right(fid, "rsa", round(draw.uniform(50, 900), 2))
        if 300 < monthly < 2500 and draw.chance(0.25):
            right(fid, "ppa", round(draw.uniform(20, 500), 2))
        if monthly < 1300 and draw.chance(0.2):
            start = f"{month_add(mois, -draw.int(1, 11))}-01"
            end = last_day(month_add(mois, draw.int(0, 6)))
            droits.append({"id_foyer": fid, "id_personne": adults[0]["id"], "prestation": "css", "date_debut": start,
                           "date_fin": end, "montant_mensuel": ""})
    disability(Draw(seed * 7919 + 1), personnes)
    return {"foyers": foyers, "personnes": personnes, "ressources": ressources, "droits": droits, "evenements": evenements}


# Incapacity rates drawn on purpose: either side of the 50 % (with a RSDAE) and 80 % edges.
TAUX_EDGES = [49, 50, 51, 79, 80, 81]


def disability(draw, personnes):
    """The AAH's facts of the allocataires and conjoints, drawn after everything else
    from a stream of their own (`draw`), so that adding them changed no other draw: the
    incapacity rate (most invalides, some workers, job seekers and retirees, around 50 %
    and 80 %), the RSDAE (known or not) of rates under 80 %, and the earned part of the
    N-2 income (`revenus_activite_n2`): the whole of it for those who work, a part for
    some who worked in N-2 and stopped, sometimes unknown."""
    for row in personnes:
        if row["role"] not in ("allocataire", "conjoint"):
            continue
        activite = row["activite"]
        if activite == "invalide":
            has_rate = draw.chance(0.9)
        else:
            has_rate = draw.chance(0.08)
        taux = None
        if has_rate:
            taux = draw.pick(TAUX_EDGES) if draw.chance(0.5) else draw.int(50, 95)
        row["taux_incapacite"] = str(taux) if taux is not None else ""
        rsdae = None
        if taux is not None and taux < 80:
            rsdae = draw.pick([True, False, None], weights=[55, 35, 10])
        elif taux is not None and draw.chance(0.2):
            rsdae = draw.chance(0.5)
        row["rsdae"] = flag(rsdae)
        n2 = float(row["revenu_n2"].replace(",", ".")) if row["revenu_n2"] else None
        if n2 is None or draw.chance(0.04):
            row["revenus_activite_n2"] = ""
            continue
        if activite in ("salarie", "independant", "apprenti", "etudiant"):
            part = 1.0
        else:
            stopped = {"chomeur": 0.5, "invalide": 0.3, "inactif": 0.3, "retraite": 0.1}.get(activite, 0.0)
            part = draw.uniform(0.2, 1.0) if draw.chance(stopped) else 0.0
        row["revenus_activite_n2"] = money(round(n2 * part, 2))


COLUMNS = {
    "foyers": ["id_foyer", "caisse", "agence", "commune", "iris", "qpv", "zone_logement", "statut_logement", "loyer",
               "logement_conventionne", "colocation", "suivi_social", "declaration_annuelle", "dtr_derniere",
               "opposition_contact", "canal_telephone", "canal_sms", "canal_email", "canal_courrier", "date_ouverture",
               "date_cloture"],
    "personnes": ["id_personne", "id_foyer", "role", "date_naissance", "sexe", "nationalite", "sejour_regulier_5ans",
                  "sejour_regulier_10ans", "sejour_regulier", "activite", "enceinte", "taux_incapacite", "rsdae",
                  "scolarise", "revenu_n2", "date_deces", "medecin_traitant", "complementaire_sante",
                  "revenus_activite_n2"],
    "ressources": ["id_personne", "mois", "nature", "montant", "montant_brut"],
    "droits": ["id_foyer", "id_personne", "prestation", "date_debut", "date_fin", "montant_mensuel"],
    "evenements": ["id_foyer", "id_personne", "type", "date", "source"],
}


def write(tables, out_dir):
    import os

    os.makedirs(out_dir, exist_ok=True)
    for name, rows in tables.items():
        with open(os.path.join(out_dir, f"{name}.csv"), "w", encoding="utf-8") as f:
            cols = COLUMNS[name]
            f.write(";".join(cols) + "\n")
            for r in rows:
                f.write(";".join(str(r.get(c, "")) for c in cols) + "\n")
