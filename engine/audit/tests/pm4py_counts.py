"""Reads a Reglament export with PM4Py and prints what it found, as JSON on stdout.

    python3 pm4py_counts.py xes  FILE.xes       -> {"traces": N, "events": N, "starts": N,
                                                    "groups": [org:group values], ...}
    python3 pm4py_counts.py ocel FILE.jsonocel  -> {"events": N, "objects": N,
                                                    "object_types": [...]}

Exit status 3 when PM4Py is not installed (the Rust test then skips loudly, or fails in CI).
PM4Py talks on stdout when imported; everything it says goes to stderr instead.
"""
import contextlib
import json
import sys


def main():
    kind, path = sys.argv[1], sys.argv[2]
    with contextlib.redirect_stdout(sys.stderr):
        try:
            import pm4py
            from pm4py.objects.log.importer.xes import importer as xes_importer
        except ImportError as e:
            print(f"pm4py is not installed: {e}", file=sys.stderr)
            sys.exit(3)
        if kind == "xes":
            # The event-log object: traces as PM4Py's XES parser builds them.
            log = xes_importer.apply(path)
            # And the data frame most PM4Py users start from.
            df = pm4py.read_xes(path)
            out = {
                "traces": len(log),
                "events": sum(len(t) for t in log),
                "starts": sum(
                    1 for t in log for e in t if e.get("lifecycle:transition") == "start"
                ),
                "frame_events": len(df),
                "frame_cases": int(df["case:concept:name"].nunique()),
                "activities": len(pm4py.get_event_attribute_values(log, "concept:name")),
                # The offices, as PM4Py's organisational mining reads them (its group key).
                "groups": sorted(
                    {e["org:group"] for t in log for e in t if "org:group" in e}
                ),
                "frame_groups": sorted(
                    str(g) for g in df["org:group"].dropna().unique()
                )
                if "org:group" in df.columns
                else [],
                "pm4py": pm4py.__version__,
            }
            if (
                out["frame_events"] != out["events"]
                or out["frame_cases"] != out["traces"]
                or out["frame_groups"] != out["groups"]
            ):
                print(f"the two readers disagree: {out}", file=sys.stderr)
                sys.exit(1)
        elif kind == "ocel":
            ocel = pm4py.read_ocel2_json(path)
            out = {
                "events": len(ocel.events),
                "objects": len(ocel.objects),
                "object_types": sorted(str(t) for t in ocel.objects["ocel:type"].unique()),
                "pm4py": pm4py.__version__,
            }
        else:
            print(f"unknown kind {kind}", file=sys.stderr)
            sys.exit(2)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
