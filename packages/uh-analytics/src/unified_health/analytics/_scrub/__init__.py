"""The PII/PHI sanitiser behind `unified_health.analytics.Sanitizer`.

One module per concern: `_categories` (what is reported), `_keys` (key-aware rules),
`_checks` (checksums and validity rules), `_names` (the given names and file-name words behind
names in file names), `_text` (value-aware detection in free text), `_url` (identifiers inside
URLs), `_hl7` (HL7 v2 segments and field references, FHIR resources), `_x12` (X12 EDI segments
and element references) and `_walk` (the structure walker and its bad-input rules).
"""
