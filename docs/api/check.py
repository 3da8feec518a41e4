#!/usr/bin/env python3
"""Fails on undocumented public symbols.

Usage: check.py XML_DIR

Walks Doxygen's XML output and reports every function, typedef, enum, struct
and union declared in an input header that has neither a brief nor a detailed
description, as "file:line: undocumented public NAME (kind)". Exits 1 if any,
0 otherwise; prints how many symbols it checked either way.
"""
import os
import sys
import xml.etree.ElementTree as ET

KINDS = {"function", "typedef", "enum", "struct", "union"}


def documented(node):
    for tag in ("briefdescription", "detaileddescription"):
        d = node.find(tag)
        if d is not None and "".join(d.itertext()).strip():
            return True
    return False


def main(argv):
    if len(argv) != 2:
        sys.exit("usage: check.py XML_DIR")
    xml_dir = argv[1]
    index = ET.parse(os.path.join(xml_dir, "index.xml")).getroot()
    missing, checked = [], 0
    seen = set()
    for comp in index.findall("compound"):
        path = os.path.join(xml_dir, comp.get("refid") + ".xml")
        root = ET.parse(path).getroot()
        for cdef in root.findall("compounddef"):
            kind = cdef.get("kind")
            items = []
            if kind in ("struct", "union"):
                items.append((cdef, kind, cdef.findtext("compoundname")))
            elif kind == "file":
                for m in cdef.iter("memberdef"):
                    if m.get("kind") in KINDS:
                        items.append((m, m.get("kind"), m.findtext("name")))
            for node, k, name in items:
                loc = node.find("location")
                if loc is None or not loc.get("file", "").endswith(".h"):
                    continue
                key = (loc.get("file"), name, k)
                if key in seen:
                    continue
                seen.add(key)
                checked += 1
                if name.startswith("@"):  # anonymous enum or union
                    continue
                if not documented(node):
                    missing.append(f"{loc.get('file')}:{loc.get('line')}: "
                                   f"undocumented public {name} ({k})")
    for m in sorted(missing):
        print(m, file=sys.stderr)
    print(f"docs: {checked} public symbols checked, {len(missing)} undocumented")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
