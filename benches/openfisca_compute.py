"""OpenFisca-France side of the side-by-side benchmark (benches/vs_openfisca.sh).

Builds one OpenFisca situation per foyer of an extract exactly as the cross-check does
(tests/crossval/crossval.py, one array per variable and period), then computes the four benefits for the month: ASPA, RSA,
prime d'activité and the CSS resource test. Prints the time of each step.
"""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "crossval"))

import crossval  # noqa: E402


def main():
    extract, mois = sys.argv[1], sys.argv[2]
    t0 = time.perf_counter()
    tbs = crossval.tax_benefit_system(mois)
    t1 = time.perf_counter()
    situation = crossval.situations(crossval.Extract(extract, mois), mois)
    sim = crossval.build_simulation(tbs, situation)
    t2 = time.perf_counter()
    for variable in ["aspa", "rsa", "ppa", "css_cmu_base_ressources", "cmu_c_plafond", "acs_plafond"]:
        sim.calculate(variable, mois)
    t3 = time.perf_counter()
    n = len(situation["familles"])
    print(f"openfisca: {n} familles; load the tax-benefit system {t1 - t0:.1f} s, "
          f"build the situations {t2 - t1:.1f} s, compute the four benefits {t3 - t2:.1f} s")


if __name__ == "__main__":
    main()
