#!/usr/bin/env python3
"""gen-corpus.py — writes the UFTP 3.1.0 conformance corpus in tests/data/.

Why a generator: the corpus must cover every message element and every
constraint of the official XSDs, and hundreds of hand-edited files drift. Here
the messages are written once, by hand, as realistic min/max instances; every
invalid file is one mutation of a valid instance, and the generator reads the
XSDs themselves (types, facets, attribute and element declarations, with their
line numbers) so that the README table points at the line that states each
constraint. The outputs are committed; the build never runs this script.

    tests/data/gen-corpus.py [XSD_DIR]      (default ../shared/uftp-spec/xsd-3.1.0)

Checks it makes before writing (it exits non-zero otherwise):
  * a max instance carries every attribute its element type declares and repeats
    every unbounded child; a min instance carries only required attributes and
    exactly minOccurs of each child;
  * with xmllint, when present: every valid file is XSD-valid and every invalid
    file is XSD-invalid.
Standard library only; SignedMessage bodies are real Ed25519 seals when the
`cryptography` package is importable (otherwise the generator refuses to run,
so the committed bodies never silently change kind).
"""
import base64
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
import xml.parsers.expat

HERE = os.path.dirname(os.path.abspath(__file__))
XSD_DIR = (sys.argv[1] if len(sys.argv) > 1 else
           os.path.join(HERE, "..", "..", "..", "shared", "uftp-spec", "xsd-3.1.0"))
XSD_FILES = ["UFTP-common.xsd", "UFTP-agr-cro.xsd", "UFTP-agr-dso.xsd",
             "UFTP-cro-dso.xsd", "UFTP-metering.xsd"]

# --------------------------------------------------------------------------
# The schema model, read from the XSDs (with line numbers for the README).
# --------------------------------------------------------------------------


class Decl:
    def __init__(self, **kw):
        self.__dict__.update(kw)


simple_types = {}    # name -> Decl(file, line, base, facets=[(kind, value, line)])
complex_types = {}   # name -> Decl(file, line, base, attrs=[Decl], elems=[Decl])
root_elements = {}   # name -> Decl(type, file, line)


def load_xsd(path):
    fname = os.path.basename(path)
    p = xml.parsers.expat.ParserCreate()
    stack = []
    cur = {"simple": None, "complex": None}

    def start(tag, a):
        line = p.CurrentLineNumber
        local = tag.split(":")[-1]
        stack.append(local)
        if local == "simpleType" and "name" in a:
            cur["simple"] = Decl(name=a["name"], file=fname, line=line, base=None, facets=[])
            simple_types[a["name"]] = cur["simple"]
        elif local == "restriction" and cur["simple"] is not None:
            cur["simple"].base = a["base"]
        elif local in ("pattern", "enumeration", "fractionDigits", "minInclusive",
                       "maxInclusive") and cur["simple"] is not None:
            cur["simple"].facets.append((local, a["value"], line))
        elif local == "complexType":
            cur["complex"] = Decl(name=a["name"], file=fname, line=line, base=None,
                                  attrs=[], elems=[])
            complex_types[a["name"]] = cur["complex"]
        elif local == "extension" and cur["complex"] is not None:
            cur["complex"].base = a["base"]
        elif local == "attribute" and cur["complex"] is not None:
            cur["complex"].attrs.append(Decl(name=a["name"], type=a["type"],
                                             use=a.get("use", "optional"),
                                             file=fname, line=line,
                                             owner=cur["complex"].name))
        elif local == "element" and cur["complex"] is not None:
            mx = a.get("maxOccurs", "1")
            cur["complex"].elems.append(Decl(name=a["name"], type=a["type"],
                                             min=int(a.get("minOccurs", "1")),
                                             max=None if mx == "unbounded" else int(mx),
                                             file=fname, line=line,
                                             owner=cur["complex"].name))
        elif local == "element" and len(stack) == 2:
            root_elements[a["name"]] = Decl(type=a["type"], file=fname, line=line)

    def end(tag):
        local = stack.pop()
        if local == "simpleType":
            cur["simple"] = None
        elif local == "complexType":
            cur["complex"] = None

    p.StartElementHandler = start
    p.EndElementHandler = end
    with open(path, "rb") as f:
        p.ParseFile(f)


def type_chain(ctype):
    while ctype is not None:
        ct = complex_types[ctype]
        yield ct
        ctype = ct.base


def attr_decls(ctype):
    out = []
    for ct in reversed(list(type_chain(ctype))):
        out.extend(ct.attrs)
    return out


def elem_decls(ctype):
    out = []
    for ct in reversed(list(type_chain(ctype))):
        out.extend(ct.elems)
    return out


def child_type(ctype, name):
    for d in elem_decls(ctype):
        if d.name == name:
            return d
    raise SystemExit(f"gen-corpus: {name} is not a child of {ctype}")


# --------------------------------------------------------------------------
# Instances
# --------------------------------------------------------------------------


class El:
    def __init__(self, name, attrs=None, children=None, text=None):
        self.name = name
        self.attrs = list(attrs.items()) if isinstance(attrs, dict) else list(attrs or [])
        self.children = list(children or [])
        self.text = text
        self.compact = False   # children without whitespace: for empty-content types

    def copy(self):
        c = El(self.name, list(self.attrs), [c.copy() for c in self.children], self.text)
        c.compact = self.compact
        return c


def esc(v):
    return (v.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;"))


def render(el, depth=0, xmlns=None):
    pad = "  " * depth
    attrs = "".join(f' {k}="{esc(v)}"' for k, v in el.attrs)
    if xmlns:
        attrs = f' xmlns="{xmlns}"' + attrs
    if not el.children and el.text is None:
        return f"{pad}<{el.name}{attrs}/>\n"
    if not el.children:
        return f"{pad}<{el.name}{attrs}>{esc(el.text)}</{el.name}>\n"
    if el.compact:
        inner = "".join(render(c).strip() for c in el.children)
        return f"{pad}<{el.name}{attrs}>{inner}</{el.name}>\n"
    inner = "".join(render(c, depth + 1) for c in el.children)
    text = f"{pad}  {esc(el.text)}\n" if el.text is not None else ""
    return f"{pad}<{el.name}{attrs}>\n{text}{inner}{pad}</{el.name}>\n"


def document(el, xmlns=None):
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + render(el, 0, xmlns)


# Realistic values ----------------------------------------------------------

DSO, AGR, CRO = "dso.example.com", "agr.example.com", "flexd.example.org"
TZ = "Europe/Amsterdam"
PERIOD = "2025-03-02"
CP = "ean.871685900012345678"
CP2 = "ea1.2025-01.com.example.dso:cp-0042"
EAN_METER = "E0871685900012345"


def uid(tag, upper=False):
    u = str(uuid.uuid5(uuid.NAMESPACE_DNS, "flexd-corpus/" + tag))
    return u.upper() if upper else u


def meta(kind, tag, sender, recipient, ts="2025-03-01T09:15:00+01:00", upper=False):
    return {"Version": "3.1.0", "SenderDomain": sender, "RecipientDomain": recipient,
            "TimeStamp": ts, "MessageID": uid(tag + "/msg", upper),
            "ConversationID": uid(tag + "/conv", upper)}


def response(tag, sender, recipient, full, ref_attr, ref_tag):
    a = meta("resp", tag, sender, recipient, ts="2025-03-01T08:15:02Z" if full else
             "2025-03-01T09:15:02+01:00")
    a["ConversationID"] = uid(ref_tag + "/conv")
    if full:
        a["Result"] = "Rejected"
        a["RejectionReason"] = "Invalid CongestionPoint;ISP conflict"
    else:
        a["Result"] = "Accepted"
    if ref_attr:
        a[ref_attr] = uid(ref_tag + "/msg")
    return a


def flex_meta(tag, sender, recipient, full):
    a = meta("flex", tag, sender, recipient, upper=full and tag.startswith("FlexOrder"))
    a.update({"ISP-Duration": "PT15M", "TimeZone": TZ, "Period": PERIOD,
              "CongestionPoint": CP})
    return a


def evening_curve(i):
    """A realistic signed profile (W): EV charging reduction in the evening peak."""
    return -(150000 + 2500 * ((i * 37) % 41)) if 69 <= i <= 84 else -(1000 + 125 * (i % 8))


def option_b_power(i):
    """OPT-B of the max FlexOffer: half the evening reduction, a small rebound outside it."""
    return evening_curve(i) // 2 if 69 <= i <= 84 else 800


def scale_w(p, pct):
    """p x pct/100 rounded half away from zero (DESIGN.md section 4)."""
    q = (abs(p) * pct + 50) // 100
    return q if p >= 0 else -q


def isps(n, fn, full):
    out = []
    for i in range(1, n + 1):
        a = fn(i)
        if full:
            a["Duration"] = "1"
        out.append(El("ISP", a))
    return out


# Builders: each returns the root El for full (max) or minimal instances. ----

def b_test(full):
    return El("TestMessage", meta("t", "TestMessage", CRO if full else AGR, DSO))


def b_test_r(full):
    a = meta("tr", "TestMessageResponse", DSO, CRO if full else AGR,
             ts="2025-03-01T08:15:01Z")
    a["ConversationID"] = uid("TestMessage/conv")
    return El("TestMessageResponse", a)


def b_apu(full):
    a = meta("apu", "AGRPortfolioUpdate", AGR, CRO)
    a["TimeZone"] = TZ
    conns = [El("Connection", {"EntityAddress": "ean.871685900000000001",
                               "StartPeriod": "2025-03-01"})]
    if full:
        conns = [El("Connection", {"EntityAddress": ea, "StartPeriod": "2025-03-01",
                                   "EndPeriod": end})
                 for ea, end in [("ean.871685900000000001", "2025-12-31"),
                                 ("ean.871685900000000002", "2026-03-31"),
                                 ("ea1.2025-01.com.example.agr:site-7", "2025-06-30")]]
    return El("AGRPortfolioUpdate", a, conns)


def b_apu_r(full):
    return El("AGRPortfolioUpdateResponse",
              response("apur", CRO, AGR, full, "AGRPortfolioUpdateMessageID",
                       "AGRPortfolioUpdate"))


def b_apq(full):
    a = meta("apq", "AGRPortfolioQuery", AGR, CRO)
    a.update({"TimeZone": TZ, "Period": PERIOD})
    return El("AGRPortfolioQuery", a)


def b_apq_r(full):
    a = response("apqr", CRO, AGR, full, None, "AGRPortfolioQuery")
    a.update({"TimeZone": TZ, "AGRPortfolioQueryMessageID": uid("AGRPortfolioQuery/msg"),
              "Period": PERIOD})

    def cp(ea, n):
        ca = {"EntityAddress": ea, "MutexOffersSupported": "true" if full else "false",
              "DayAheadRedispatchBy": "DSO"}
        if full:
            ca["IntradayRedispatchBy"] = "AGR"
        return El("CongestionPoint", ca,
                  [El("Connection", {"EntityAddress": f"ean.87168590000000{n:04d}{k}"})
                   for k in range(1, 3 if full else 2)])

    if not full:
        view = El("DSO-View", children=[El("DSO-Portfolio", {"DSO-Domain": DSO},
                                           [cp(CP, 1)])])
        return El("AGRPortfolioQueryResponse", a, [view])
    views = []
    for d, dom in enumerate([DSO, "grid-operator.example.net"]):
        ports = [El("DSO-Portfolio", {"DSO-Domain": dom}, [cp(CP if d == 0 else CP2, 10 * d + 1),
                                                           cp(f"ean.8716859000123456{70 + d}", 10 * d + 2)]),
                 El("DSO-Portfolio", {"DSO-Domain": "dso-" + str(d + 2) + ".example.com"},
                    [cp(f"ean.87168590009{d}0000001", 10 * d + 3),
                     cp(f"ean.87168590009{d}0000002", 10 * d + 4)])]
        loose = [El("Connection", {"EntityAddress": f"ean.8716859000999{d}0{k}"}) for k in (1, 2)]
        views.append(El("DSO-View", children=ports + loose))
    return El("AGRPortfolioQueryResponse", a, views)


def b_dpu(full):
    a = meta("dpu", "DSOPortfolioUpdate", DSO, CRO)
    a["TimeZone"] = TZ

    def cp(ea, n):
        ca = {"EntityAddress": ea, "StartPeriod": "2025-03-01",
              "MutexOffersSupported": "false", "DayAheadRedispatchBy": "DSO"}
        if full:
            ca.update({"EndPeriod": "2025-12-31", "MutexOffersSupported": "true",
                       "IntradayRedispatchBy": "AGR"})
        conns = []
        for k in range(1, (4 if full else 2)):
            c = {"EntityAddress": f"ean.87168590000{n}00000{k}", "StartPeriod": "2025-03-01"}
            if full:
                c["EndPeriod"] = "2025-12-31"
            conns.append(El("Connection", c))
        return El("CongestionPoint", ca, conns)

    cps = [cp(CP, 1)] if not full else [cp(CP, 1), cp(CP2, 2)]
    if full:
        cps[1].attrs = [(k, "AGR" if k == "DayAheadRedispatchBy" else
                         ("DSO" if k == "IntradayRedispatchBy" else v)) for k, v in cps[1].attrs]
    return El("DSOPortfolioUpdate", a, cps)


def b_dpu_r(full):
    return El("DSOPortfolioUpdateResponse",
              response("dpur", CRO, DSO, full, "DSOPortfolioUpdateResponseMessageID",
                       "DSOPortfolioUpdate"))


def b_dpq(full):
    a = meta("dpq", "DSOPortfolioQuery", DSO, CRO)
    a.update({"TimeZone": TZ, "Period": PERIOD, "EntityAddress": CP})
    return El("DSOPortfolioQuery", a)


def b_dpq_r(full):
    a = response("dpqr", CRO, DSO, full, "DSOPortfolioQueryMessageID", "DSOPortfolioQuery")
    a.update({"TimeZone": TZ, "Period": PERIOD})
    if not full:
        return El("DSOPortfolioQueryResponse", a)
    conns = [El("Connection", {"EntityAddress": f"ean.87168590000100000{k}",
                               "AGR-Domain": AGR if k < 3 else "aggregator-two.example.net"})
             for k in range(1, 5)]
    return El("DSOPortfolioQueryResponse", a, [El("CongestionPoint", {"EntityAddress": CP}, conns)])


def b_fru(full):
    a = flex_meta("FlexReservationUpdate", DSO, AGR, full)
    a.update({"ContractID": "BILATERAL-2025-017", "Reference": "RES-2025-03-02-A"})
    n = 96 if full else 1
    return El("FlexReservationUpdate", a,
              isps(n, lambda i: {"Power": str(-200000 if 69 <= i <= 84 else 0), "Start": str(i)},
                   full))


def b_fru_r(full):
    return El("FlexReservationUpdateResponse",
              response("frur", AGR, DSO, full, "FlexReservationUpdateMessageID",
                       "FlexReservationUpdate"))


def b_dp(full):
    a = flex_meta("D-Prognosis", AGR, DSO, full)
    a["Revision"] = "3" if full else "1"
    n = 96 if full else 1
    return El("D-Prognosis", a,
              isps(n, lambda i: {"Power": str(420000 + 1500 * ((i * 13) % 29) - (250000 if i < 28 else 0)),
                                 "Start": str(i)}, full))


def b_dp_r(full):
    a = response("dpr", DSO, AGR, full, "D-PrognosisMessageID", "D-Prognosis")
    kids = []
    if full:
        kids = [El("FlexOrderStatus", {"FlexOrderMessageID": uid(f"FlexOrder/{k}/msg", k == 1),
                                       "IsValidated": v})
                for k, v in [(1, "true"), (2, "false"), (3, "1")]]
    return El("D-PrognosisResponse", a, kids)


def b_fr(full):
    a = flex_meta("FlexRequest", DSO, CRO, full)
    a.update({"Revision": "2" if full else "1",
              "ExpirationDateTime": "2025-03-01T14:00:00Z" if full else "2025-03-01T15:00:00+01:00"})
    if full:
        a.update({"ContractID": "BILATERAL-2025-017", "ServiceType": "DayAheadCongestion"})
    if not full:
        return El("FlexRequest", a, [El("ISP", {"MinPower": "-300000", "MaxPower": "-150000",
                                                 "Start": "69"})])

    def isp(i):
        if 69 <= i <= 84:
            return {"Disposition": "Requested", "MinPower": "-320000", "MaxPower": "-150000",
                    "Start": str(i)}
        return {"Disposition": "Available", "MinPower": "-500000", "MaxPower": "500000",
                "Start": str(i)}
    return El("FlexRequest", a, isps(96, isp, True))


def b_fr_r(full):
    return El("FlexRequestResponse",
              response("frr", CRO, DSO, full, "FlexRequestMessageID", "FlexRequest"))


def b_fo(full, n=96):
    a = flex_meta("FlexOffer", AGR, CRO, full)
    a["ExpirationDateTime"] = "2025-03-01T13:45:00Z" if full else "2025-03-01T14:45:00+01:00"
    if full:
        a.update({"Unsolicited": "false", "FlexRequestMessageID": uid("FlexRequest/msg"),
                  "ContractID": "BILATERAL-2025-017",
                  "D-PrognosisMessageID": uid("D-Prognosis/msg", True),
                  "BaselineReference": "DP-2025-03-02-r3"})
    a["Currency"] = "EUR"
    if not full:
        opt = El("OfferOption", {"OptionReference": "A", "Price": "125.50"},
                 [El("ISP", {"Power": "-150000", "Start": "69"})])
        return El("FlexOffer", a, [opt])
    opts = []
    for ref, price, maf, scale in [("OPT-A-full", "1834.2575", "1.00", 1),
                                   ("OPT-B-partial", "912.6250", "0.25", 2)]:
        opts.append(El("OfferOption", {"OptionReference": ref, "Price": price,
                                       "MinActivationFactor": maf},
                       isps(n, lambda i, s=scale: {
                           "Power": str((evening_curve(i) if 69 <= i <= 84 else 0) if s == 1
                                        else option_b_power(i)),
                           "Start": str(i)}, True)))
    return El("FlexOffer", a, opts)


def b_fo_r(full):
    return El("FlexOfferResponse",
              response("for", CRO, AGR, full, "FlexOfferMessageID", "FlexOffer"))


def b_fofr(full):
    a = meta("fofr", "FlexOfferRevocation", AGR, CRO)
    a["FlexOfferMessageID"] = uid("FlexOffer/msg", full)
    return El("FlexOfferRevocation", a)


def b_fofr_r(full):
    return El("FlexOfferRevocationResponse",
              response("fofrr", CRO, AGR, full, "FlexOfferRevocationMessageID",
                       "FlexOfferRevocation"))


def b_for(full, n=96):
    a = flex_meta("FlexOrder", CRO, AGR, full)
    if full:
        a.update({"Unsolicited": "false", "FlexOfferMessageID": uid("FlexOffer/msg"),
                  "ServiceType": "DayAheadCongestion", "ContractID": "BILATERAL-2025-017",
                  "D-PrognosisMessageID": uid("D-Prognosis/msg"),
                  "BaselineReference": "DP-2025-03-02-r3"})
    a.update({"Price": "456.3125" if full else "125.50", "Currency": "EUR",
              "OrderReference": "ORD-2025-03-02-0001"})
    if full:
        a.update({"OptionReference": "OPT-B-partial", "ActivationFactor": "0.50"})
    if not full:
        return El("FlexOrder", a, [El("ISP", {"Power": "-150000", "Start": "69"})])
    # ActivationFactor 0.50 x OPT-B-partial, half away from zero to whole watts.
    return El("FlexOrder", a, isps(n, lambda i: {
        "Power": str(scale_w(option_b_power(i), 50)), "Start": str(i)}, True))


def b_for_r(full):
    return El("FlexOrderResponse",
              response("forr", AGR, CRO, full, "FlexOrderMessageID", "FlexOrder"))


def b_fs(full):
    a = response("fs", CRO, AGR, full, None, "FlexSettlement")
    a["ConversationID"] = uid("FlexSettlement/conv")
    if full:
        a["Result"], a["RejectionReason"] = "Accepted", "Penalty applied to ORD-0002"
    a.update({"PeriodStart": "2025-03-01", "PeriodEnd": "2025-03-31", "Currency": "EUR"})

    def fos(k, nisp):
        fa = {"Period": f"2025-03-{k + 1:02d}", "CongestionPoint": CP,
              "Price": "456.3125", "NetSettlement": "456.3125"}
        if full:
            fa = {"OrderReference": f"ORD-2025-03-0{k + 1}-0001", "Period": f"2025-03-{k + 1:02d}",
                  "ContractID": "BILATERAL-2025-017",
                  "D-PrognosisMessageID": uid(f"D-Prognosis/{k}/msg", k == 2),
                  "BaselineReference": f"DP-2025-03-0{k + 1}-r3", "CongestionPoint": CP,
                  "Price": "456.3125", "Penalty": "12.5000" if k == 2 else "0",
                  "NetSettlement": "443.8125" if k == 2 else "456.3125"}

        def isp(i):
            d = {"Start": str(68 + i), "BaselinePower": "-2000", "OrderedFlexPower": "-150000",
                 "ActualPower": "-149000", "DeliveredFlexPower": "-147000"}
            if full:
                d = {"Start": str(68 + i), "Duration": "1", "BaselinePower": "-2000",
                     "OrderedFlexPower": "-150000", "ActualPower": "-140000",
                     "DeliveredFlexPower": "-138000", "PowerDeficiency": "12000"}
            return El("ISP", d)
        return El("FlexOrderSettlement", fa, [isp(i) for i in range(1, nisp + 1)])

    def cs(cid, nper):
        pers = []
        for p in range(nper):
            def isp(i):
                d = {"Start": str(68 + i), "ReservedPower": "-200000"}
                if full:
                    d.update({"Duration": "1", "RequestedPower": "-150000",
                              "AvailablePower": "-200000", "OfferedPower": "-180000",
                              "OrderedPower": "-150000"})
                    d = {k: d[k] for k in ("Start", "Duration", "ReservedPower", "RequestedPower",
                                           "AvailablePower", "OfferedPower", "OrderedPower")}
                return El("ISP", d)
            pers.append(El("Period", {"Period": f"2025-03-{p + 2:02d}"},
                           [isp(i) for i in range(1, (17 if full else 2))]))
        return El("ContractSettlement", {"ContractID": cid} if cid else {}, pers)

    if not full:
        return El("FlexSettlement", a, [fos(0, 1), cs(None, 1)])
    return El("FlexSettlement", a, [fos(1, 16), fos(2, 16), cs("BILATERAL-2025-017", 2),
                                    cs("BILATERAL-2025-018", 2)])


def b_fs_r(full):
    a = response("fsr", AGR, CRO, full, "FlexSettlementMessageID", "FlexSettlement")
    if full:
        a["Result"], a["RejectionReason"] = "Accepted", "ORD-2025-03-03-0001 disputed"
        st = [El("FlexOrderSettlementStatus", {"OrderReference": "ORD-2025-03-02-0001",
                                               "Disposition": "Accepted",
                                               "DisputeReason": "none"}),
              El("FlexOrderSettlementStatus", {"OrderReference": "ORD-2025-03-03-0001",
                                               "Disposition": "Disputed",
                                               "DisputeReason": "Actual power measured differs"})]
    else:
        st = [El("FlexOrderSettlementStatus", {"Disposition": "Accepted"})]
    return El("FlexSettlementResponse", a, st)


def b_m(full):
    a = meta("m", "Metering", AGR, DSO)
    a.update({"Revision": "1", "ISP-Duration": "PT15M", "TimeZone": TZ})
    if full:
        a["Currency"] = "EUR"
    a.update({"Period": PERIOD, "EAN": EAN_METER if not full else "e0871685900012345"})
    if not full:
        return El("Metering", a, [El("Profile", {"ProfileType": "Power", "Unit": "kW"},
                                     [El("ISP", {"Start": "1", "Value": "12.5"})])])
    profs = []
    for pt, unit, base in [("Power", "kW", 40), ("ImportEnergy", "kWh", 10),
                           ("ExportEnergy", "kWh", 2), ("ImportMeterReading", "kWh", 120345),
                           ("ExportMeterReading", "kWh", 9876)]:
        profs.append(El("Profile", {"ProfileType": pt, "Unit": unit},
                        [El("ISP", {"Start": str(i),
                                    "Value": f"{base + (i * 7 % 13) * 0.125:.3f}"})
                         for i in range(1, 97)]))
    return El("Metering", a, profs)


def b_m_r(full):
    return El("MeteringResponse", response("mr", DSO, AGR, full, "MeteringMessageID", "Metering"))


BUILDERS = {
    "TestMessage": b_test, "TestMessageResponse": b_test_r,
    "AGRPortfolioUpdate": b_apu, "AGRPortfolioUpdateResponse": b_apu_r,
    "AGRPortfolioQuery": b_apq, "AGRPortfolioQueryResponse": b_apq_r,
    "DSOPortfolioUpdate": b_dpu, "DSOPortfolioUpdateResponse": b_dpu_r,
    "DSOPortfolioQuery": b_dpq, "DSOPortfolioQueryResponse": b_dpq_r,
    "FlexReservationUpdate": b_fru, "FlexReservationUpdateResponse": b_fru_r,
    "D-Prognosis": b_dp, "D-PrognosisResponse": b_dp_r,
    "FlexRequest": b_fr, "FlexRequestResponse": b_fr_r,
    "FlexOffer": b_fo, "FlexOfferResponse": b_fo_r,
    "FlexOfferRevocation": b_fofr, "FlexOfferRevocationResponse": b_fofr_r,
    "FlexOrder": b_for, "FlexOrderResponse": b_for_r,
    "FlexSettlement": b_fs, "FlexSettlementResponse": b_fs_r,
    "Metering": b_m, "MeteringResponse": b_m_r,
}

# --------------------------------------------------------------------------
# SignedMessage: real Ed25519 seals (crypto_sign combined mode: sig || msg).
# --------------------------------------------------------------------------

SEAL_SEED = hashlib.sha256(b"flexd test corpus signing key").digest()


def seal(inner):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    key = Ed25519PrivateKey.from_private_bytes(SEAL_SEED)
    return base64.b64encode(key.sign(inner) + inner).decode()


def seal_public_key():
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives import serialization
    pub = Ed25519PrivateKey.from_private_bytes(SEAL_SEED).public_key()
    return base64.b64encode(pub.public_bytes(serialization.Encoding.Raw,
                                             serialization.PublicFormat.Raw)).decode()


def b_signed(full, valid_docs):
    inner_type, role = ("FlexOffer", "AGR") if full else ("TestMessage", "AGR")
    inner = valid_docs[inner_type + (".max" if full else ".min")].encode()
    return El("SignedMessage", {"SenderDomain": AGR, "SenderRole": role, "Body": seal(inner)})

# --------------------------------------------------------------------------
# Completeness checks of min and max against the schema model.
# --------------------------------------------------------------------------


def check_instance(el, ctype, full, where):
    declared = attr_decls(ctype)
    names = [k for k, _ in el.attrs]
    for d in declared:
        if full and d.name not in names:
            raise SystemExit(f"gen-corpus: max {where}: missing optional {d.name}")
        if not full and d.use != "required" and d.name in names:
            raise SystemExit(f"gen-corpus: min {where}: has optional {d.name}")
        if d.use == "required" and d.name not in names:
            raise SystemExit(f"gen-corpus: {where}: lacks required {d.name}")
    for n in names:
        if n not in [d.name for d in declared]:
            raise SystemExit(f"gen-corpus: {where}: undeclared attribute {n}")
    for d in elem_decls(ctype):
        kids = [c for c in el.children if c.name == d.name]
        want_ok = (len(kids) >= (2 if d.max is None else d.max)) if full else len(kids) == d.min
        if not want_ok:
            raise SystemExit(f"gen-corpus: {'max' if full else 'min'} {where}: "
                             f"{len(kids)} x {d.name}")
        for k, c in enumerate(kids, 1):
            check_instance(c, d.type, full, f"{where}/{d.name}[{k}]")


# --------------------------------------------------------------------------
# Violations: one bad value per constraint of a simple type.
# (slug, value, what it breaks) — slugs become part of file names.
# --------------------------------------------------------------------------

VIOLATIONS = {
    "SpecVersion": [("semver-short", "3.1", "pattern \\d+.\\d+.\\d+")],
    "UUIDType": [("uuid-short", "6f1f2e8a-3c2b-4b7e-9d1a-5c3e2f1a0b9", "UUID pattern (8-4-4-4-12 hex)"),
                 ("uuid-braces", "{6F1F2E8A-3C2B-4B7E-9D1A-5C3E2F1A0B91}", "UUID pattern, no braces")],
    "EntityAddressType": [("ean-short", "ean.87168590", "EntityAddress pattern: ean. + 12..34 digits"),
                          ("ea1-no-colon", "ea1.2025-01.com.example.dso", "EntityAddress pattern: ea1.YYYY-MM.name:local")],
    "InternetDomainType": [("uppercase", "Agr.Example.com", "InternetDomain pattern: lowercase labels"),
                           ("single-label", "localhost", "InternetDomain pattern: at least one dot and a TLD")],
    "ISO4217CurrencyType": [("lowercase", "eur", "ISO 4217 pattern [A-Z]{3}"),
                            ("four-letters", "EURO", "ISO 4217 pattern [A-Z]{3}")],
    "CurrencyAmountType": [("fraction5", "125.50001", "fractionDigits 4", "fractionDigits"),
                           ("comma", "125,50", "xs:decimal lexical form")],
    "TimeZoneNameType": [("abbreviation", "CET", "TimeZone pattern Region/City"),
                         ("region-asia", "Asia/Tokyo", "TimeZone pattern: regions Africa|America|Australia|Europe|Pacific only")],
    "PeriodType": [("feb30", "2025-02-30", "xs:date: day out of range for the month"),
                   ("unpadded", "2025-3-2", "xs:date lexical form YYYY-MM-DD")],
    "ActivationFactorType": [("zero", "0.00", "minInclusive 0.01", "minInclusive"),
                             ("above-one", "1.01", "maxInclusive 1.00", "maxInclusive"),
                             ("fraction3", "0.255", "fractionDigits 2", "fractionDigits")],
    "USEF-RoleType": [("enum", "BRP", "enumeration AGR|CRO|DSO")],
    "RedispatchByType": [("enum", "CRO", "enumeration AGR|DSO")],
    "AcceptedRejectedType": [("enum", "OK", "enumeration Accepted|Rejected")],
    "AvailableRequestedType": [("enum", "Required", "enumeration Available|Requested")],
    "AcceptedDisputedType": [("enum", "Rejected", "enumeration Accepted|Disputed")],
    "MeteringUnitType": [("enum", "MW", "enumeration kW|kWh")],
    "MeteringProfileEnum": [("enum", "Energy", "enumeration Power|ImportEnergy|ExportEnergy|ImportMeterReading|ExportMeterReading")],
    "EANType": [("no-prefix", "0871685900012345", "EAN pattern [Ee][0-9]{16}"),
                ("too-short", "E087168590001234", "EAN pattern [Ee][0-9]{16}")],
    "xs:dateTime": [("space", "2025-03-01 09:15:00+01:00", "xs:dateTime lexical form (T separator)"),
                    ("hour25", "2025-03-01T25:00:00Z", "xs:dateTime: hour out of range")],
    "xs:duration": [("no-designator", "15M", "xs:duration lexical form (P prefix)"),
                    ("no-unit", "PT15", "xs:duration lexical form (unit letter)")],
    "xs:boolean": [("yes", "yes", "xs:boolean: true|false|1|0")],
    "xs:long": [("overflow", "9223372036854775808", "xs:long maxInclusive 9223372036854775807"),
                ("decimal", "1.5", "xs:long: integer lexical form")],
    "xs:integer": [("decimal", "-150000.5", "xs:integer: no decimal point"),
                   ("exponent", "1e5", "xs:integer lexical form")],
    "xs:positiveInteger": [("zero", "0", "xs:positiveInteger minInclusive 1"),
                           ("negative", "-1", "xs:positiveInteger minInclusive 1")],
    "xs:decimal": [("comma", "12,5", "xs:decimal lexical form")],
    "xs:base64Binary": [("not-base64", "not base64!", "xs:base64Binary lexical form")],
}
# Attributes declared by the payload base types are checked with every
# violation on these messages and with the first violation on all the others.
BASE_SHOWCASE = {"FlexOffer", "FlexOfferResponse"}
BASE_TYPES = {"PayloadMessageType", "PayloadMessageResponseType"}


def type_ref(t, facet=None):
    """file:line of the type's facet (all facets when None) for the README, or
    the builtin name. A violation may name the one facet it breaks (4th field)."""
    if t.startswith("xs:"):
        return t
    st = simple_types[t]
    lines = ",".join(str(f[2]) for f in st.facets if facet in (None, f[0])) or str(st.line)
    return f"{st.file}:{lines}"


# --------------------------------------------------------------------------
# Mutations of a valid instance.
# --------------------------------------------------------------------------


def walk(el, ctype, path, steps, out):
    """Yield (el, ctype, display_path, steps) for the first occurrence of every element path."""
    out.append((el, ctype, path, steps))
    seen = set()
    counts = {}
    for idx, c in enumerate(el.children):
        counts[c.name] = counts.get(c.name, 0) + 1
        if c.name in seen:
            continue
        seen.add(c.name)
        d = child_type(ctype, c.name)
        walk(c, d.type, f"{path}/{c.name}[{counts[c.name]}]", steps + [idx], out)


def locate(root, steps):
    el = root
    for s in steps:
        el = el.children[s]
    return el


def short(path):
    """FlexOffer/OfferOption[1]/ISP[1] -> OfferOption-ISP (for file names)."""
    parts = [p.split("[")[0] for p in path.split("/")[1:]]
    return "-".join(parts)


class Case:
    def __init__(self, file, path, constraint, xsdref, doc):
        self.file, self.path, self.constraint, self.xsdref, self.doc = file, path, constraint, xsdref, doc


def trim(el, keep=2):
    """The max structure with at most `keep` ISPs per parent: small invalid files."""
    n = 0
    kids = []
    for c in el.children:
        if c.name == "ISP":
            n += 1
            if n > keep:
                continue
        kids.append(trim(c, keep))
    el.children = kids
    return el


def mutate(base, steps, fn):
    doc = base.copy()
    fn(locate(doc, steps))
    return doc


def invalid_cases(msg, base):
    ctype = root_elements[msg].type
    cases = []
    nodes = []
    walk(base, ctype, msg, [], nodes)

    def add(stem, path, constraint, xsdref, doc, xmlns=None):
        cases.append(Case(f"{msg}.{stem}.xml", path, constraint, xsdref, document(doc, xmlns)))

    for el, ct, path, steps in nodes:
        loc = short(path)
        decls = {d.name: d for d in attr_decls(ct)}
        for name, _ in el.attrs:
            d = decls[name]
            stem = f"{loc}-{name}" if loc else name
            apath = f"{path}@{name}"
            decl_ref = f"{d.file}:{d.line}"
            if d.use == "required":
                add(f"{stem}.missing", apath, f"{name} use=\"required\"", decl_ref,
                    mutate(base, steps, lambda e, n=name: setattr(
                        e, "attrs", [(k, v) for k, v in e.attrs if k != n])))
            viol = VIOLATIONS.get(d.type, [])
            if d.owner in BASE_TYPES and msg not in BASE_SHOWCASE:
                viol = viol[:1]
            for slug, bad, what, *facet in viol:
                add(f"{stem}.{slug}", apath, f"{name} is {d.type}: {what}",
                    f"{decl_ref}; {type_ref(d.type, *facet)}",
                    mutate(base, steps, lambda e, n=name, b=bad: setattr(
                        e, "attrs", [(k, b if k == n else v) for k, v in e.attrs])))
        for d in elem_decls(ct):
            kids = [c for c in el.children if c.name == d.name]
            if d.min >= 1:
                stem = f"{loc}-{d.name}" if loc else d.name
                add(f"{stem}.min-occurs", f"{path}/{d.name}",
                    f"{d.name} minOccurs={d.min}", f"{d.file}:{d.line}",
                    mutate(base, steps, lambda e, n=d.name: setattr(
                        e, "children", [c for c in e.children if c.name != n])))
            if d.max is not None and kids:
                stem = f"{loc}-{d.name}" if loc else d.name
                def dup(e, n=d.name, m=d.max):
                    i = max(k for k, c in enumerate(e.children) if c.name == n)
                    extra = [e.children[i].copy() for _ in range(m)]
                    e.children[i + 1:i + 1] = extra
                add(f"{stem}.max-occurs", f"{path}/{d.name}[{d.max + 1}]",
                    f"{d.name} maxOccurs={d.max}", f"{d.file}:{d.line}",
                    mutate(base, steps, dup))
        # Sequences of two different children: the second one first.
        names = [d.name for d in elem_decls(ct)]
        if len(names) >= 2:
            a, b = names[0], names[1]
            if any(c.name == a for c in el.children) and any(c.name == b for c in el.children):
                def swap(e, a=a, b=b):
                    first_b = next(c for c in e.children if c.name == b)
                    e.children.remove(first_b)
                    i = next(k for k, c in enumerate(e.children) if c.name == a)
                    e.children.insert(i, first_b)
                d = elem_decls(ct)[0]
                stem = (f"{loc}-" if loc else "") + f"{b}-before-{a}"
                add(f"{stem}.order", f"{path}/{b}[1]",
                    f"xs:sequence order: {a} before {b}", f"{d.file}:{d.line}",
                    mutate(base, steps, swap))

    rd = root_elements[msg]
    rt = complex_types[ctype]

    def add_remark(e):
        # In an empty-content element even whitespace is content: keep it out,
        # so that the undeclared element is the only thing wrong.
        e.compact = not e.children
        e.children.insert(0, El("Remark"))
    add("unknown-attribute", f"{msg}@Priority", "no attribute wildcard: undeclared attribute",
        f"{rt.file}:{rt.line}", mutate(base, [], lambda e: e.attrs.append(("Priority", "high"))))
    add("unknown-element", f"{msg}/Remark[1]", "no element wildcard: undeclared child element",
        f"{rt.file}:{rt.line}", mutate(base, [], add_remark))
    add("text-content", msg, "element-only/empty content: no character data",
        f"{rt.file}:{rt.line}", mutate(base, [], lambda e: setattr(e, "text", "unexpected text")))
    add("namespaced", msg, "no targetNamespace: elements are unqualified",
        f"{rd.file}:{rd.line}", base.copy(), xmlns="https://www.shapeshifter.energy/uftp/3.1.0")
    return cases


# --------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------


TABLE_BEGIN = "<!-- invalid-table: generated by gen-corpus.py, do not edit below -->"
TABLE_END = "<!-- invalid-table: end -->"


def write_table(readme, cases):
    """Replace the table between the markers of README.md (the prose stays hand-written)."""
    with open(readme) as f:
        text = f.read()
    head, rest = text.split(TABLE_BEGIN, 1)
    tail = rest.split(TABLE_END, 1)[1]
    rows = ["| file | constraint broken | where the XSD states it |", "|---|---|---|"]
    for c in cases:
        rows.append(f"| `{c.file}` | {c.constraint.replace('|', '&#124;')} | {c.xsdref} |")
    with open(readme, "w") as f:
        f.write(head + TABLE_BEGIN + "\n" + "\n".join(rows) + "\n" + TABLE_END + tail)


def xmllint_check(valid_dir, invalid_dir, xsd_dir):
    if shutil.which("xmllint") is None:
        print("gen-corpus: xmllint not found, skipping the schema check", file=sys.stderr)
        return
    with tempfile.TemporaryDirectory() as tmp:
        root = os.path.join(tmp, "root.xsd")
        with open(root, "w") as f:
            f.write('<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">\n')
            for x in XSD_FILES:
                f.write(f'  <xs:include schemaLocation="{os.path.abspath(os.path.join(xsd_dir, x))}"/>\n')
            f.write("</xs:schema>\n")
        for d, want in ((valid_dir, 0), (invalid_dir, 3)):
            for name in sorted(os.listdir(d)):
                r = subprocess.run(["xmllint", "--noout", "--nonet", "--schema", root,
                                    os.path.join(d, name)], capture_output=True, text=True)
                if (r.returncode == 0) != (want == 0):
                    raise SystemExit(f"gen-corpus: {d}/{name}: xmllint rc {r.returncode}\n{r.stderr}")


def main():
    for x in XSD_FILES:
        load_xsd(os.path.join(XSD_DIR, x))
    valid_dir = os.path.join(HERE, "valid")
    invalid_dir = os.path.join(HERE, "invalid")
    for d in (valid_dir, invalid_dir):
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)

    docs = {}
    for msg, build in BUILDERS.items():
        ctype = root_elements[msg].type
        for full, tag in ((False, "min"), (True, "max")):
            el = build(full)
            check_instance(el, ctype, full, msg)
            docs[f"{msg}.{tag}"] = document(el)
    for full, tag in ((False, "min"), (True, "max")):
        el = b_signed(full, docs)
        check_instance(el, "SignedMessageType", full, "SignedMessage")
        docs[f"SignedMessage.{tag}"] = document(el)
    missing = set(root_elements) - {k.split(".")[0] for k in docs}
    if missing:
        raise SystemExit(f"gen-corpus: no instance for {sorted(missing)}")
    for k, text in docs.items():
        with open(os.path.join(valid_dir, k + ".xml"), "w") as f:
            f.write(text)

    cases = []
    for msg in sorted(root_elements):
        if msg == "SignedMessage":
            base = b_signed(False, docs)
        else:
            base = trim(BUILDERS[msg](True))
        cases.extend(invalid_cases(msg, base))
    names = [c.file for c in cases]
    if len(names) != len(set(names)):
        dups = sorted({n for n in names if names.count(n) > 1})
        raise SystemExit(f"gen-corpus: duplicate names {dups}")
    for c in cases:
        with open(os.path.join(invalid_dir, c.file), "w") as f:
            f.write(c.doc)

    with open(os.path.join(HERE, "expected-errors.tsv"), "w") as f:
        f.write("# file\tpath the codec's error must name (see README.md)\n")
        for c in cases:
            f.write(f"{c.file}\t{c.path}\n")
    write_table(os.path.join(HERE, "README.md"), cases)
    with open(os.path.join(HERE, "seal-key.txt"), "w") as f:
        f.write("# Ed25519 public key (base64) of the SignedMessage bodies in valid/\n")
        f.write(seal_public_key() + "\n")
    xmllint_check(valid_dir, invalid_dir, XSD_DIR)
    print(f"gen-corpus: {len(docs)} valid, {len(cases)} invalid")


if __name__ == "__main__":
    main()
