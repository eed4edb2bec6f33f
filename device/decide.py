#!/usr/bin/env python3
"""Reads what device/gpu-checks.sh brought back and says, per open decision of device/README.md, which
default to keep or flip, with the evidence and the line that holds the default.

  python3 device/decide.py FILES_AT            # the run's folder (summary.txt, results.tgz)
  python3 device/decide.py --margin 3 FILES_AT # how much faster (%) a variant must be to win (default 3)

A variant wins only where the tests that cover it passed; within the margin the current default
stays (one run's noise: device/README.md). Nothing is changed: it prints the edits to make.
"""
import argparse
import glob
import io
import json
import os
import re
import sys
import tarfile
import xml.etree.ElementTree as ET

SOURCE = "gptneo-engine/src/main/java/dev/gptneo/engine/ops/cuda/"
# decision: (property, where its default is, default now, value when the variant wins,
#            variant bench, baseline bench, junit reports dirs that must pass)
DECISIONS = [
    ("gptneo.cuda.gemm", "CudaLinear.java (GEMM_PROPERTY)", "cublas", "lt",
     "prefill-b64-p256-lt", "prefill-b64-p256", ["junit-model-optin"]),
    ("gptneo.cuda.fuseNorm", "CudaLinear.java (FUSE_NORM_PROPERTY)", "false", "true",
     "generate-b1-p128-n128-fusenorm", "generate-b1-p128-n128", ["junit-model-optin"]),
    ("gptneo.cuda.pdl", "DriverGpu.java (PROGRAMMATIC_PROPERTY)", "false", "true",
     "generate-b1-p128-n128-pdl", "generate-b1-p128-n128", ["junit-model-pdl-splitk"]),
    ("gptneo.cuda.splitK", "CudaLinear.java (SPLIT_K_PROPERTY)", "off", "auto",
     "generate-b128-p128-n128-splitk", "generate-b128-p128-n128", ["junit-kernels", "junit-model-pdl-splitk"]),
    # defaults built blind: the variant is the old way; it wins (and the default flips off) only if faster
    ("gptneo.cuda.kvInAttention", "CudaOps.java (KV_IN_ATTENTION_PROPERTY)", "true", "false",
     "prefill-b64-p256-kvstore", "prefill-b64-p256", []),
    ("gptneo.cuda.halfQkv", "CudaOps.java (HALF_QKV_PROPERTY)", "true", "false",
     "prefill-b64-p256-qkv32", "prefill-b64-p256", []),
    ("gptneo.cuda.splitDecode", "CudaKernels.java (SPLIT_DECODE_PROPERTY)", "true", "false",
     "generate-b1-p128-n128-nosplit", "generate-b1-p128-n128", []),
]
# defaults that stand on tests alone: they flip off where these fail
TEST_ONLY = [
    ("gptneo.cuda.copyCaches", "CudaOps.java (COPY_CACHES_PROPERTY)", "true", "false",
     [("junit-model", "CudaKeptCachesTest", None), ("junit-model", "CudaGoldenTest", "tinyNeoBeamSearchFp32")]),
]


class Results:
    """summary.txt plus every file of results.tgz, by its path inside the archive."""

    def __init__(self, folder):
        self.files = {}
        archive = os.path.join(folder, "results.tgz")
        if os.path.exists(archive):
            with tarfile.open(archive) as tar:
                for m in tar.getmembers():
                    if m.isfile():
                        self.files[os.path.normpath(m.name)] = tar.extractfile(m).read().decode("utf-8", "replace")
        for path in glob.glob(os.path.join(folder, "**", "*"), recursive=True):  # loose files win
            if os.path.isfile(path) and not path.endswith(".tgz"):
                with open(path, encoding="utf-8", errors="replace") as f:
                    self.files[os.path.normpath(os.path.relpath(path, folder))] = f.read()
        self.summary = self.files.get("summary.txt", "")

    def tokens_per_s(self, size, workload):
        text = self.files.get(os.path.join("bench", "ours-%s-%s.json" % (size, workload)), "")
        for line in text.splitlines():
            if line.startswith("{"):
                return json.loads(line).get("tokens_per_s")
        return None

    def log(self, size, workload):
        return self.files.get(os.path.join("bench", "ours-%s-%s.log" % (size, workload)), "")

    def junit(self, reports):
        """(tests, failed, {class: {test: ok}}) of one reports folder; tests is 0 where it did not run."""
        tests, failed, cases = 0, 0, {}
        for path, text in self.files.items():
            if path.startswith(reports + os.sep) and path.endswith(".xml"):
                try:
                    root = ET.parse(io.StringIO(text)).getroot()
                except ET.ParseError:
                    continue
                for case in root.iter("testcase"):
                    ok = case.find("failure") is None and case.find("error") is None
                    skipped = case.find("skipped") is not None
                    tests += 0 if skipped else 1
                    failed += 0 if ok else 1
                    cls = case.get("classname", "").rsplit(".", 1)[-1]
                    cases.setdefault(cls, {})[re.sub(r"\(.*", "", case.get("name", ""))] = ok and not skipped
        return tests, failed, cases


def passed(results, reports):
    tests, failed, _ = results.junit(reports)
    return tests > 0 and failed == 0, "%s: %s" % (reports, "did not run" if tests == 0 else
                                                   "%d tests, %d failed" % (tests, failed))


def decide(results, size, margin):
    lines = []
    for prop, where, now, variant_value, variant, base, reports in DECISIONS:
        a, b = results.tokens_per_s(size, variant), results.tokens_per_s(size, base)
        checks = [passed(results, r) for r in reports]
        evidence = ["%s %s tokens/s against %s %s" % (variant, "%.0f" % a if a else "missing", base,
                                                       "%.0f" % b if b else "missing")] + [c[1] for c in checks]
        refused = prop == "gptneo.cuda.pdl" and re.search(r"programmatic dependent launch of .* refused",
                                                          results.log(size, variant))
        if refused:
            evidence.append("the -pdl bench log says a launch was refused (PDL turned itself off)")
        if refused:
            verdict = "keep %s (the device refused the launches)" % now
        elif not a or not b:
            verdict = "keep %s (no measurement)" % now
        elif not all(ok for ok, _ in checks):
            verdict = "keep %s (a covering test failed or did not run)" % now
        elif a > b * (1 + margin / 100):
            verdict = "FLIP to %s (the variant %+.1f%%): edit the default in %s%s" % (
                variant_value, 100 * (a / b - 1), SOURCE, where)
        elif a < b * (1 - margin / 100):
            verdict = "keep %s (the default is %.1f%% faster)" % (now, 100 * (b / a - 1))
        else:
            verdict = "keep %s (the variant %+.1f%%, within the %g%% margin)" % (now, 100 * (a / b - 1), margin)
        lines.append((prop, verdict, evidence))
    model_ok, model_why = passed(results, "junit-model")
    variants_ok, variants_why = passed(results, "junit-model-variants")
    if not model_ok and variants_ok:  # device/README.md: the defaults built blind are the first suspects
        lines.append(("defaults built blind", "SUSPECT: rerun junit-model with each of gptneo.cuda.kvInAttention, "
                      "halfQkv, splitDecode, foldBias set to false in turn; flip the one that fails",
                      [model_why, variants_why]))
    for prop, where, now, off, needs in TEST_ONLY:
        evidence, ok = [], True
        for reports, cls, test in needs:
            _, _, cases = results.junit(reports)
            found = cases.get(cls, {})
            result = (all(found.values()) and bool(found)) if test is None else found.get(test)
            evidence.append("%s %s%s: %s" % (reports, cls, "." + test if test else "",
                                              "passed" if result else "missing" if result is None else "FAILED"))
            ok = ok and bool(result)
        verdict = "keep %s" % now if ok else "FLIP to %s (tests above): edit the default in %s%s" % (off, SOURCE, where)
        lines.append((prop, verdict, evidence))
    return lines


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("folder")
    p.add_argument("--size", default="2.7B")
    p.add_argument("--margin", type=float, default=3.0)
    a = p.parse_args()
    results = Results(a.folder)
    if not results.files:
        sys.exit("nothing under %s: give the run's files_at folder (summary.txt, results.tgz)" % a.folder)
    failing = [l for l in results.summary.splitlines() if re.search(r"rc=[1-9]|timed out|skipped", l)]
    if failing:
        print("Steps that did not pass (summary.txt):")
        print("\n".join("  " + l for l in failing))
    for prop, verdict, evidence in decide(results, a.size, a.margin):
        print("%s: %s" % (prop, verdict))
        for e in evidence:
            print("    " + e)


if __name__ == "__main__":
    main()
