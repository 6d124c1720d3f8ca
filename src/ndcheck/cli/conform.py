"""``ndcheck conform NAME|--file F.toml FILE``: is an observed packet sequence a model behaviour?

FILE is a wire trace (text) or a capture (pcap, pcapng), told apart by its first bytes.  For a
capture, ``--client``/``--server`` name the hosts' addresses (by default the first SYN and the
first MM1 decide, :mod:`ndcheck.traces.sides`) and ``--at`` says where it was taken: ``wire``
(packets in send order) or on the ``client``'s or ``server``'s interface (that host's sends, and
its peer's packets as they arrive; :mod:`ndcheck.checking.conform`).

The model is followed on demand (:func:`ndcheck.checking.conform.conform`): only the states
consistent with each prefix are computed, never the whole product graph.  The scenario's
retransmission budgets, data segment counts and channel capacity exist to keep exhaustive
exploration finite; here they are raised to what the trace needs (:mod:`ndcheck.checking.lifting`,
a long stream through a sliding window of segment ids, :mod:`ndcheck.checking.segments`) unless
``--strict``, which keeps the scenario's bounds and names the one a rejected packet goes beyond.

Exit status: 0 accepted, 1 rejected (the longest accepted prefix and the packets the model
allowed next are printed), 2 bad input (unknown scenario, malformed wire trace, unreadable or
unsupported capture), 3 rejected by a truncated exploration (undetermined: the missing states
might accept it).
"""

from __future__ import annotations

import argparse
import json
import sys

from .common import add_bounds, add_scenario, one_scenario, output_path, with_bounds, write_text


def register(sub) -> None:
    p = sub.add_parser("conform", help="check an observed wire trace or capture against a scenario's model",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="example: ndcheck conform fig19-require-inbound tests/wire/fig19.txt "
                              "--witness svg -o w.svg\n"
                              "         ndcheck conform fig7-both-capable tests/captures/fig7.pcapng --at client\n"
                              "         ndcheck conform --file my.toml capture.pcap --client 10.0.0.5 --json -")
    add_scenario(p)
    p.add_argument("trace_file", metavar="FILE",
                   help="a wire trace (one 'SENDER>RECEIVER MESSAGE [clear|esp]' per line, '#' comments) "
                        "or a pcap/pcapng capture (recognised by its content)")
    p.add_argument("--client", metavar="ADDR[,ADDR...]", default=None,
                   help="the client's addresses in the capture (default: the sender of the first SYN; "
                        "the first MM1's addresses join the side that sent or received it)")
    p.add_argument("--server", metavar="ADDR[,ADDR...]", default=None,
                   help="the server's addresses in the capture (default: the receiver of the first SYN)")
    p.add_argument("--at", choices=("wire", "client", "server"), default="wire",
                   help="where the packets were seen: on the wire, in send order (default), or on the "
                        "client's or the server's interface (its sends; its peer's packets as they arrive)")
    p.add_argument("--strict", action="store_true",
                   help="keep the scenario's bounds (retransmission budgets, data segments, channel "
                        "capacity); by default they are raised to what the trace needs")
    p.add_argument("--json", metavar="OUT", type=output_path,
                   help="write the JSON report ('-' for standard output, instead of the text)")
    p.add_argument("--witness", choices=("text", "json", "mermaid", "svg"), default=None,
                   help="also print the path showing the accepted packets (the whole trace when "
                        "accepted, the accepted prefix when rejected) in this format")
    p.add_argument("-o", "--output", metavar="OUT", help="write the witness to OUT (with --witness)")
    add_bounds(p)
    p.set_defaults(run=run)


def run(args) -> int:
    from ..checking.conform import ConformError, conform, describe, never_sent
    from ..reports.conformance import conform_document, input_summary
    from ..traces.sides import CaptureTrace, parse_addresses, read_observed
    from . import UsageError

    if not args.name and not args.file:
        raise UsageError("conform: a scenario and a FILE are required: NAME FILE or --file F.toml FILE "
                         "(FILE: a wire trace, pcap or pcapng)")
    sc = one_scenario(args)
    client = parse_addresses(args.client, "--client") if args.client is not None else ()
    server = parse_addresses(args.server, "--server") if args.server is not None else ()
    trace = read_observed(args.trace_file, client, server)  # WireError/CaptureError -> exit 2
    if not isinstance(trace, CaptureTrace) and (client or server):
        option = "--client" if client else "--server"
        raise UsageError(f"conform: {option} names addresses in a capture; {args.trace_file} is a wire "
                         "trace, which names client and server itself")
    from ..model.compose import build_system

    sc = with_bounds(sc, args)
    flags = [o.retransmission for o in trace.observed] if isinstance(trace, CaptureTrace) else None
    try:
        result = conform(sc, trace.packets, at=args.at, strict=args.strict, retransmissions=flags)
    except ConformError as e:
        raise UsageError(f"conform: {e}") from None
    system = build_system(sc)
    quiet = args.json == "-"
    if not quiet:
        notes = []
        if not result.accepted and never_sent(system, result.rejected_packet):
            notes.append(f"no step of {sc.name} sends a packet like '{result.rejected_packet}'")
        if isinstance(trace, CaptureTrace):
            text = describe(result, scenario=sc.name, locations=trace.locations(), notes=notes)
        else:
            text = describe(result, trace.lines, sc.name, notes=notes)
        print(text)
        for line in input_summary(result, trace):
            print(line)
    if args.json:
        doc = json.dumps(conform_document(result, trace, sc.name, args.trace_file), indent=2,
                         ensure_ascii=False) + "\n"
        if quiet:
            sys.stdout.write(doc)
        else:
            write_text(args.json, doc)
    shown = result.prefix_witness
    if args.witness and shown is not None and shown.steps:
        from ..reports.render import render

        text = render(shown, result.witness_system or system, args.witness)
        if args.output:
            write_text(args.output, text)
            print(f"wrote {args.output}", file=sys.stderr)
        elif not quiet:
            sys.stdout.write(text)
    if result.accepted:
        return 0
    return 3 if result.truncated else 1
