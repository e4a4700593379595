"""Blind hold-outs for the sanitiser: corpora written from the category names alone.

Each ``data/pii_holdout_blind*.jsonl`` holds one example per line: ``value`` (a string property
value), ``key`` (the property name it is sent under; ``"value"`` when absent), ``category`` (the
expected redaction category, or null for a benign value) and ``span`` (the part of ``value`` that
must not survive; the whole value when absent). Every corpus was written before its author read
the detectors, and is scored the same way:

* an identifier counts as caught only if its span is gone from every string in the scrubbed
  properties, no word or digit group of three or more characters found only in the span survives
  (a half-redacted name that leaves the surname is a miss), and its expected category is among the
  reported redactions (for ``url_identifier`` any reported category is accepted: a ``?mrn=`` value
  is reported under its parameter's category). The table also shows a lenient figure (span gone
  and any category reported), which does not gate;
* a benign value fails if the scrubbed properties differ from the input in any way or any redaction
  is counted.

Failure messages name line numbers and categories, never the values. The decisions each corpus
encodes follow.

blind
-----

``data/pii_holdout_blind.jsonl``: the first blind hold-out, values of every kind.

* Digits written fullwidth (as some input methods produce) and separators such as non-breaking
  spaces, non-breaking hyphens and en dashes do not hide an identifier.
* A latitude/longitude pair with three or more decimals (about 100 m or finer) is a location
  identifier wherever it appears; a coarse point (one or two decimals) and a clinic's city or
  region are benign.
* Loopback addresses (``127.0.0.1``) identify nobody and are benign; any other address is an
  identifier.
* Lettered vanity numbers (``1-800-FLOWERS``) are a business's, not a person's, and are benign;
  a numeric phone number is an identifier wherever it appears.
* Ages of 89 or less, age bands and day counts are benign; an age over 89 is an identifier.
* Event timestamps, report dates, months, quarters and bare years are benign; a date tied to a
  person by its key or wording (birth, admission, discharge, death, service) is an identifier.
* Field labels and placeholders ("Date of Birth", "ZIP code") and name-like keys that name things
  rather than people (``screen_name``, ``plan_name``, ``file_name``) are benign.

blind2
------

``data/pii_holdout_blind2.jsonl`` holds event property values as a telehealth, clinic-booking,
pharmacy or lab-results app sends them: autocaptured form fields, search queries, chat previews,
notification texts, validation and error messages, log lines, query strings, deep links, JSON,
form-encoded and CSV blobs. Each line has ``value``, an optional ``key`` (``"value"`` when absent),
``category`` (the expected redaction category, null for a benign value) and an optional ``span``
(the part of the value that must not survive; the whole value when absent).

* RxBIN, RxPCN and group numbers identify a plan or an employer's plan, not a person: benign.
  Member, subscriber, Medicare (MBI) and Medicaid numbers are ``member_id``.
* A provider's NPI is a public professional identifier (published in the NPPES registry): benign.
  A DEA registration is not freely published and is misused for prescription fraud: it is a
  certificate number (``license_number``), as are driver's licence, passport, state ID, nursing
  licence and birth certificate numbers.
* Pharmacy Rx numbers, lab accession and specimen numbers, encounter and patient numbers are
  medical record identifiers (``mrn``). Appointment confirmation codes and employee numbers are
  "any other unique identifying code" (``custom``), detectable only from their label.
* NDC, ICD-10, CPT and LOINC codes identify a drug, diagnosis, procedure or test: benign alone.
* The last four digits of an SSN, when labelled as such, are reported as ``ssn``: alone they are
  not an SSN but they are the fragment most used to verify identity. The last four digits of a
  payment card are benign (they may be shown under PCI DSS).
* A birth year alone is benign unless it makes the person older than 89 (``born in 1932`` is
  ``age_over_89``); ages of 89 or less and the aggregated band "90+" are benign.
* A bare five-digit ZIP code under an address key or next to a search term is ``zip_code``; a
  city under a patient's address key is ``location``, a clinic's or pharmacy's city is benign.
* Event timestamps, report dates, months, date ranges and card expiry dates are benign; dates tied
  to a person by key or wording (birth, admission, discharge, death, service, appointment, last
  menstrual period) are identifiers.
* A file name or image URL that carries the patient's name is a ``name``.
* Loopback addresses are benign; any other IP address, IPv6 included, is an identifier.

blind3
------

``data/pii_holdout_blind3.jsonl`` holds property values as a mobile health app's analytics carries
them: autocaptured element texts and input values, React Native error messages, GraphQL variables
serialised as JSON strings, URL fragments and deep links, with UK and Canadian formats next to US
ones. Each line has ``value``, an optional ``key`` (``"value"`` when absent), ``category`` (the
expected redaction category, null for a benign value) and an optional ``span`` (the part of the
value that must not survive; the whole value when absent). All data is fictitious: 555-01xx and
Ofcom drama numbers, example domains, documentation IP ranges, published test card numbers, and
check digits computed for made-up NHS numbers, SINs, IBANs and VINs.

* A UK NHS number (ten digits, mod-11 check digit) identifies the beneficiary of a national health
  service, like a Medicare number: ``member_id``. A Canadian Social Insurance Number (nine digits,
  Luhn) is the national counterpart of the SSN: ``ssn``.
* Canadian postal codes (``K1A 0B1``) and UK postcodes (``SW1A 1AA``) are ``zip_code``.
* National identifiers a US, UK or Canadian health product would not meet (Aadhaar and the like)
  are left out, and so are opaque base64 blobs.
* A date under a birth key or next to birth wording is ``date_of_birth``, in ISO, US, en-GB,
  French and spelled-out forms; appointment, admission, discharge, death, vaccination and last
  menstrual period dates are ``personal_date``. Release dates, ISO weeks and card expiry are
  benign.
* Ages of 90 and above are ``age_over_89``; 89 and below, and durations such as "90 day supply",
  are benign.
* Coordinates with five or more decimals are a ``location``; a clinic's coordinates at city
  precision (two decimals) are benign. A city under a bare ``city`` key is taken to be the
  user's, a geographic subdivision smaller than a state: ``location``.
* Parcel tracking numbers, build ids, version strings, hex colours, and order or reference numbers
  that look like phones or cards (failing Luhn) but carry no identifying label are benign; so are
  the loopback address and a four-part SDK version under a version key.

blind4
------

``data/pii_holdout_blind4.jsonl`` holds property values as a US hospital patient portal and a
dental or vision clinic SaaS send them: appointment reminders, intake-form answers, insurance
eligibility responses serialised into strings, billing statements, guarantor and emergency-contact
fields, pharmacy pickup notes, lab result notifications, telehealth and video-visit join links and
SMS opt-in confirmations, with lowercase and typos, surrounding quotes, brackets and parentheses,
multiline and tab-separated values. Each line has ``value``, an optional ``key`` (``"value"`` when
absent), ``category`` (the expected redaction category, null for a benign value) and an optional
``span`` (the part of the value that must not survive; the whole value when absent). All data is
fictitious: 555-01xx numbers, example domains, documentation IP ranges, published test card
numbers, and check digits computed for made-up VINs, DEA numbers and NPIs.

* Claim numbers (``CLM-2026-000981``, "claim # 20260115-00087") and remittance trace numbers are
  benign. Safe Harbor names account numbers and health plan beneficiary numbers; a claim number
  identifies a transaction between a provider and a payer, not the person, and is what support
  and analytics need to follow a claim's status. They are benign everywhere, labelled or not.
* Member, subscriber, policy, Medicare (MBI) and Medicaid ids are ``member_id``; billing,
  guarantor and patient account numbers and a bank account next to a routing number are
  ``account_number``; chart and patient ids are ``mrn``; driver's licence, DEA, state licence
  and passport numbers are ``license_number``; a provider's NPI is benign, as in the second
  hold-out (it is published in the NPPES registry); a licence plate is ``vehicle_id``; an
  instrument serial number, MAC and IMEI are ``device_id``.
* A date next to birth wording or under a birth key is ``date_of_birth`` (including ``dob`` with a
  two-digit year and compact ``YYYYMMDD``); admission, discharge, service, death, surgery and
  appointment dates are ``personal_date``. Event timestamps with offsets and a bare statement due
  day ("due 12/01") are benign.
* Ages of 90 and above are ``age_over_89``; lower ages and age bands are benign.
* Codes and clinical values are benign: claim status, CARC/RARC and group codes, CPT/CDT with
  modifiers, ICD-10, NDC, tooth numbers, refraction values, vitals, amounts and durations. Payer,
  plan, clinic and pharmacy names are benign; person names after a label or a salutation are
  ``name``.
* A link carrying a token, password, record number or e-mail address is ``url_identifier``; the
  same hosts without such parts are benign.

blind5
------

``data/pii_holdout_blind5.jsonl`` holds property values as a clinician-facing EHR-integration and
behavioural-health SaaS sends them: HL7 v2 segment fragments (MSH, PID, NK1, IN1, PV1, OBX, MRG)
pasted into error messages, FHIR resources serialised as JSON inside validation errors, audit-log
searches typed by staff, CSV and tab-separated export previews, referral and fax cover text,
therapy scheduling and crisis-line callback notes, intake answers, e-prescribing errors,
integration-engine log lines, SFTP paths, API request paths and Slack-style alerts. Each line has
``value``, an optional ``key`` (``"value"`` when absent), ``category`` (the expected redaction
category, null for a benign value) and an optional ``span`` (the part of the value that must not
survive; the whole value when absent). All data is fictitious: 555-01xx numbers, example domains,
documentation IP ranges, published test card numbers, and check digits computed for made-up IBANs,
VINs, NHS numbers, DEA numbers, NPIs, IMEIs and MBIs. At first contact the sanitiser's recall was
0.7097 (110/155) and its false-positive rate 0.0388 (4/103); no label was corrected.

* In an HL7 v2 segment a value's field position labels it even without a label word: PID-3 and
  MRG-1 are ``mrn``, PID-5 and NK1-2 are ``name`` (``FAMILY^GIVEN``; the caret is no separator
  between a name's parts), PID-7 is ``date_of_birth`` (``YYYYMMDD``), PID-11 and NK1-4 are
  ``street_address``, PID-13 and NK1-5 are ``phone`` (also in XTN form with the area code and
  local number in separate components, ``^1^206^5550143``), PID-18 is ``account_number``, PID-19
  is ``ssn``, IN1-36 is ``member_id`` and PV1-44 is ``personal_date``. The MSH segment (sending
  application and facility codes, message timestamp, control id, version), IN1 plan and insurer
  codes, PV1 unit/room/bed codes, OBX scores and ACK codes are benign.
* In a FHIR resource an identifier typed ``MR`` is ``mrn``, one under the ``us-ssn`` system is
  ``ssn``, ``Coverage.subscriberId`` is ``member_id``, ``Patient.birthDate`` is
  ``date_of_birth``, ``Encounter.period`` is ``personal_date``, a ``name.text`` of a Patient or
  RelatedPerson is ``name`` and a home address's ``city`` is ``location``. Logical ids that are
  random UUIDs (Observation, Encounter, OperationOutcome) and channel ids are benign, as are code
  system URLs and OIDs (``urn:oid:2.16.840.1.113883.6.1``).
* Names of clinicians and staff (an assigned crisis worker, the therapist who signed, "Dr. X"
  addressed in a message) are ``name`` like patients' names, and so is a first name alone of a
  patient, caller or relative in a note. Eponymous diagnoses and statutes (Tourette's disorder,
  Asperger syndrome, Wernicke-Korsakoff, the Baker Act), facility names (including saints' names)
  and interface, channel and queue names are benign. A name-like key whose value is a mask
  placeholder (``<masked>``) is benign.
* A clinic's fax number is ``phone`` like any numeric phone number; the 988 crisis line short
  code is benign. An e-mail address spelled out ("x dot y at example dot org") is ``email``.
* SFTP and upload paths carrying a patient's name are ``name``, and those carrying a patient id
  are ``mrn``; batch files named only by message type and a timestamp are benign.
* Dates of a service, session, crisis evaluation, seclusion or restraint episode, admission,
  discharge or death are ``personal_date``; message timestamps, export dates, go-live dates,
  ISO weeks and quarters are benign.
* A password-reset token in a URL path, a meeting ``pwd``, and a patient search by e-mail or FHIR
  identifier in a query string are ``url_identifier``.
* A 16-hex-digit value under ``android_id`` is ``device_id``; the same shape as a request id
  (``x-request-id``) is benign. Surescripts message ids, NCPDP reject codes, fax job ids,
  referral and order numbers, remittance trace numbers, ABA routing numbers alone and batch
  references that fail Luhn are benign. A portal enrolment code is ``custom``.
* An IANA time zone name (``America/Los_Angeles``), a clinic's city and coordinates at one
  decimal are benign.

blind6
------

``data/pii_holdout_blind6.jsonl`` holds property values as a US remote-patient-monitoring,
home-health and family-accounts product sends them, for English- and Spanish-speaking patients:
wearable, glucometer, BP-cuff and scale pairing logs, cellular-hub status, readings and alert texts,
home-health visit notes and EVV GPS check-ins, caregiver and guardian flows for children, HSA/FSA
and ACH payment steps, OCR of insurance cards, driver's licences and Social Security cards, courier
and supply-delivery notes, non-emergency medical transport rides, SMS and push texts in both
languages and call-centre IVR transcripts. Each line has ``value``, an optional ``key``
(``"value"`` when absent), ``category`` (the expected redaction category, null for a benign value)
and an optional ``span`` (the part of the value that must not survive; the whole value when
absent). All data is fictitious: 555-01xx numbers, example domains, documentation IP ranges,
published test card numbers, and check digits computed for made-up IMEIs, ICCIDs, IBANs (with the
Spanish national check digits), VINs, GTINs and NPIs. At first contact the sanitiser's recall was
0.7368 (112/152) and its false-positive rate 0.0097 (1/103); no label was corrected.

* Spanish labels count as their English counterparts: "fecha de nacimiento", "fecha nac.",
  "nació el", "cumpleaños" with a year are birth wording (``date_of_birth``); "fecha de alta",
  "visita programada para" are ``personal_date``; "expediente" and "No. de paciente" are ``mrn``;
  "número de afiliado" is ``member_id``; "seguro social" is ``ssn``; "cuenta bancaria" is
  ``account_number``; "licencia de conducir" and "pasaporte" are ``license_number``; "placa" is
  ``vehicle_id``; "código postal" is ``zip_code``; "código de confirmación" is ``custom``; an age
  written "94 años" is ``age_over_89``.
* Spanish words that are also given names ("dolores de cabeza", "luz verde", "correa rosa") are
  benign; after a salutation or a recipient label ("Sra.", "Sr.", "recordatorio para") the same
  word is a ``name``, lowercase included. A salutation with no name ("Hola Sra.,") is benign.
* Bluetooth addresses in any separator style, instrument and scale serial numbers, cellular-hub
  IMEIs (spaced or not), SIM ICCIDs and advertising identifiers (IDFA) are ``device_id``. Device
  models, model numbers, firmware and app versions, BLE service and characteristic UUIDs, RSSI and
  battery levels, trace and span ids, document ids and reading UUIDs are benign.
* A bank routing (ABA) number identifies a bank, not a person: benign alone and left as context
  next to an account number, which is ``account_number``, as are HSA, FSA, guarantor and patient
  account numbers. Fully masked placeholders (``XXX-XX-XXXX``, ``MM/DD/AAAA``) are benign.
* The home-health start-of-care date, admission, discharge, death, surgery and transport
  appointment dates are ``personal_date``; reading timestamps, release dates, build numbers that
  embed a date, report months and supply expiry are benign.
* RPM and home-health billing codes (CPT 99453/99454/99457, HCPCS G0180) are benign, though they
  look like ZIP codes; so are a provider's NPI, remittance (EFT) trace numbers, GTINs, SKUs, ride
  and order ids, and parcel tracking numbers.
* A numeric phone number is ``phone`` also as an SMS sender, as a cellular hub's callback number,
  as seven digits ("555-0199") and in an ASR transcript with spaced groups; "911" and lettered
  vanity numbers are benign.
* Licence plates of transport vehicles and a fleet van's VIN are ``vehicle_id``, and the names of
  drivers, nurses, neighbours and caregivers are ``name`` like the patient's; a vehicle make and
  model and a fleet van number are benign.
* Coordinates with four decimals are a ``location``, following the first hold-out's three-decimal
  rule; a catchment centroid at one decimal is benign.
blind7
------

``data/pii_holdout_blind7.jsonl`` holds property values as a US revenue-cycle (medical billing and
claims) SaaS sends them: X12 837/835/270/271/277CA/999/TA1 segment fragments (ISA, GS, NM1, N3,
N4, DMG, REF, CLM, CLP, SVC, SV1, CAS, DTP, DTM, TRN, EB, AAA, PER) pasted into parser and
clearinghouse rejection messages, eligibility responses, patient statement lines and SMS
reminders, payment-plan, collections-agency and skip-trace notes, lockbox, ACH/EFT and refund
logs, card-on-file and payment-gateway events, prior-authorisation requests, denial work-queue
comments, call-centre notes (one in Spanish), CSV and pipe-separated aging exports, statement and
EOB file names, billing-portal URLs and SQL log lines. Each line has ``value``, an optional
``key`` (``"value"`` when absent), ``category`` (the expected redaction category, null for a
benign value) and an optional ``span`` (the part of the value that must not survive; the whole
value when absent). All data is fictitious: 555-01xx numbers, example domains, documentation IP
ranges, published test card numbers, and check digits computed for made-up IBANs, a VIN, an IMEI,
a DEA number, NPIs and MBIs. At first contact the sanitiser's recall was 0.7303 (111/152) and its
false-positive rate 0.0094 (1/106). Two spans its
author flagged as too wide were narrowed as plain span errors, no label was changed: line 116's
``age 91`` to the age ``91`` (the label word is not the identifier) and line 134's
``tel:+12065550104`` to the number ``+12065550104`` (the URI scheme is not either).

* In an X12 segment a value's element position and qualifier label it even without a label
  word, as HL7 field positions do in the fifth hold-out: NM103/NM104 of a subscriber (``IL``),
  patient (``QC``) or individual rendering provider (``82``) are ``name`` (the ``*`` element
  separator between surname and given name is no separator between a name's parts); NM109 with
  qualifier ``MI`` and ``REF*1W`` are ``member_id``; ``REF*SY`` is ``ssn``; ``REF*EA`` is ``mrn``;
  ``DMG02`` (``D8`` format, the subscriber's or a dependent's) is ``date_of_birth``; ``DTP*472``
  (service), ``DTP*439`` (accident) and ``DTM*150`` (service period start) are ``personal_date``;
  a subscriber's or patient's N3 is ``street_address``, N401 ``location`` and N403 ``zip_code``
  (also when malformed, as eight digits); ``PER`` phone numbers are ``phone`` even for a billing
  office.
* CLM01 and CLP01, the patient control number, are the provider's patient account number:
  ``account_number``. The payer's claim control number (CLP07, ICN), ``REF*D9`` and ``REF*F8``
  claim references, ``REF*G1`` prior-authorisation numbers, ``REF*6P`` group numbers, TRN trace
  numbers, ISA/GS/ST control numbers, TA1/999 acknowledgements, AAA reject reasons, EB benefit
  segments, CAS adjustments and SVC/SV1/HI code composites are benign.
* Organisations' names and identifiers are benign: billing-provider (``NM1*85``) and payer
  (``NM1*PR``) names with their NPI or payer id, a pay-to lockbox address (2010AB), payer and
  plan names, collections-agency names, a court's county, a merchant id, a card terminal's TID
  and a bank routing number. A guarantor's PO box, by contrast, is ``street_address``.
* A guarantor's, cardholder's or remitter's bank account (lockbox MICR line, ACH refund, HSA) is
  ``account_number``; a payment card number in any grouping is ``credit_card``; the last four
  digits of a card, a card expiry, gateway auth codes, charge ids and the masked placeholder
  ``***-**-****`` are benign; a labelled SSN last four is ``ssn``, as in the second hold-out.
* A statement access code, a payment-plan enrolment code, a quick-pay PIN and a biller's employee
  number are ``custom``. A ProviderOne (Medicaid) id is ``member_id``; a state driver's licence
  used to verify a check, a prescriber's DEA number and a passport are ``license_number``; a
  vehicle plate and VIN found by skip tracing or in an auto-accident claim are ``vehicle_id``.
* Names of billers and AR staff, cardholders, debtors and relatives (a first name alone included,
  lowercase included) are ``name``; statement and EOB PDF names carrying a surname are ``name``.
  A CSV header of field names (``patient_name,dob,…``) is benign.
* Dates of service, admission, discharge, death, surgery, accident and financial-counselling
  appointments are ``personal_date``. Report, deposit, check, remittance, transaction and
  statement dates, a statement due date with its year, ISA/GS dates and times, file names that
  embed a date and quarters are benign.
* Aging buckets (``91-120``, ``120+``, "over 90 days", "90+ days AR") are durations, not ages:
  benign. Ages of 90 and above are ``age_over_89``, and so is a birth year that makes the
  guarantor older than 89.
* CARC/RARC codes with group codes, CPT/HCPCS with modifiers and units, ICD-10, POS/TOS, TOB,
  taxonomy codes, five-digit payer ids that look like ZIP codes, implementation-guide versions,
  percentages, amounts, claim UUIDs, request ids and timestamps are benign.
* A billing-portal link carrying an account number, a statement token, a password-reset token, an
  e-mail address, an MRN or a member id in its query string or path is ``url_identifier``; a
  claims list filtered by status and a help page are benign, as is an API path carrying only a
  claim number.

blind8
------

``data/pii_holdout_blind8.jsonl`` holds property values as a consumer mental-health, fertility and
wellness app used in the US, UK, Canada and Australia sends them, with its customer-support
tooling: journal-entry previews, mood notes, search queries, feedback forms and "about me" text,
support tickets with quoted replies and signatures, chat and IVR transcripts, app-store review
replies, referral and invite flows, cycle-tracking, fertility-treatment and pregnancy notes, EAP
and insurance sign-up, push texts, and developer telemetry (Python and JavaScript stack traces and
exception messages that echo input, SQL statements with literal values, structured JSON logs, HTTP
access-log lines, Sentry breadcrumbs), user agents and device fingerprints. Each line has
``value``, an optional ``key`` (``"value"`` when absent), ``category`` (the expected redaction
category, null for a benign value) and an optional ``span`` (the part of the value that must not
survive; the whole value when absent). All data is fictitious: 555-01xx, Ofcom drama and ACMA
fictitious numbers, example and ``.test`` domains, documentation IP ranges, published test card
numbers, and check digits computed for made-up IBANs, NHS numbers, SINs, TFNs, Australian Medicare
and OHIP numbers, IMEIs, VINs and NPIs. At first contact the sanitiser's recall was 0.6711
(102/152) and its false-positive rate 0.0400 (4/100); no label was corrected.

* A UK National Insurance number and an Australian Tax File Number are national counterparts of
  the SSN, like the Canadian SIN: ``ssn``. An Australian Medicare number and an Ontario health card
  (OHIP) number, with or without the version code, are ``member_id``, like an NHS number; so is an
  EAP participant id. Australian four-digit postcodes under a postcode key are ``zip_code``, like
  UK and Canadian postcodes.
* A personal referral or invite code and a student id are ``custom``; an employer's EAP access
  code, a promo code, support ticket ids and chat conversation ids are benign, like group and
  claim numbers. An EAP case number is the case file of a counselling episode: ``mrn``.
* Fertility and pregnancy dates are ``personal_date``: last menstrual period, "period started",
  due date (EDD), egg retrieval, embryo transfer, the start of an IVF round, a pregnancy loss or
  D&C and the anniversary of a death, with or without a year. A baby's date of birth is
  ``date_of_birth``. Gestational ages ("37+4 weeks", "Week 23"), cycle days and average cycle
  lengths are benign.
* Names with weak cues are ``name``: a relative, friend, partner or ex named in a journal entry
  or mood note (lowercase included), a planned baby name, the name in an e-mail's "On …, X
  wrote:" header or a signature, a coach, therapist or support agent, a push text's salutation and
  a name echoed in an exception or a SQL literal. "Mom", "Dad", "my GP", a template placeholder
  (``{{first_name}}``), mood words that are also given names ("Joy", "hope", "Grace period") and
  eponymous conditions are benign.
* A partially masked e-mail showing one letter and a shared domain (``j•••@example.com``) and the
  input placeholder ``name@example.com`` identify nobody: benign.
* Crisis-line short codes (988, Samaritans 116 123, Lifeline 13 11 14) are benign, like 911; a
  numeric phone number is ``phone`` everywhere else, including a company support line in a
  signature and digits spelled out in a transcript.
* A browser-fingerprint visitor id, an APNs device token, an IDFA, an ``android_id``, a wearable's
  serial number, a MAC and an IMEI are ``device_id``. User-agent strings, device models, screen
  sizes and capability strings are benign.
* Any IP address other than loopback is ``ip_address`` in access logs, Sentry contexts and
  exception messages, private (``10.x``) and server addresses included; ``::1`` is benign.
* An e-mail address in a form-encoded body is ``email``. In a URL, a reset or invite token, a
  meeting ``pwd``, and an e-mail, phone or name query parameter are ``url_identifier``.
* The user's own town, city or borough in prose ("just moved to Ballarat", "I live in Hackney")
  is a ``location``. A therapist's practice city, a directory filter's ``city=`` and a directory
  search summary are benign; a bare ZIP code next to a search term stays ``zip_code``.
* A UK sort code and an Australian BSB identify a bank: they are left as context next to an
  account number, which is ``account_number``.

blind9
------

``data/pii_holdout_blind9.jsonl`` holds property values as US hospital operations software used by
staff sends them: bed-board and patient-flow events, nurse-call and secure-messaging or pager
texts, SBAR and I-PASS handoff snippets, OR and procedure scheduling rows, transport and
environmental-services tickets, lab (LIS) and radiology (PACS) worklists with DICOM attributes in
tag notation and in DICOM JSON, pathology specimen labels, wristband and barcode scans, dietary
orders, dispensing-cabinet logs, badge-access logs, infusion-pump, monitor and staff-phone
telemetry, incident and safety reports and registration and cashier notes, with clinical
abbreviations, lowercase, tab-, pipe- and newline-separated values. Each line has ``value``, an
optional ``key`` (``"value"`` when absent), ``category`` (the expected redaction category, null
for a benign value) and an optional ``span`` (the part of the value that must not survive; the
whole value when absent). All data is fictitious: 555-01xx numbers, example and ``.test``
domains, documentation IP ranges, published test card numbers, and check digits computed for a
made-up IBAN, VIN, IMEI, DEA number, NPI and the GTIN of an implant UDI. At first contact the
sanitiser's recall was 0.5742 (89/155) and its false-positive rate 0.0306 (3/98); no label was
corrected.

* In DICOM, an attribute's tag or keyword labels its value, as HL7 field positions do in the
  fifth hold-out: PatientName (0010,0010), ReferringPhysicianName (0008,0090) and
  RequestingPhysician (0032,1032) are ``name`` (``FAMILY^GIVEN``; the caret is no separator
  between a name's parts); PatientID (0010,0020) and AccessionNumber (0008,0050) are ``mrn``;
  PatientBirthDate (0010,0030, ``YYYYMMDD``) is ``date_of_birth``; StudyDate (0008,0020) is the
  date of service, ``personal_date``; PatientAge (0010,1010) of ``090Y`` or more is
  ``age_over_89`` and lower ages are benign; PatientAddress (0010,1040) is ``street_address``;
  PatientTelephoneNumbers (0010,2154) is ``phone``; DeviceSerialNumber (0018,1000) is
  ``device_id``, like any instrument serial number. Study, Series and SOP Instance UIDs, SOP
  Class and Transfer Syntax UIDs identify an object or a format, not a person: benign. So are
  Modality, StudyDescription, InstitutionName, PatientSex, AE titles and the placeholder
  ``ANONYMIZED``.
* A wristband barcode that encodes the MRN (with or without ``MRN:`` or Code 39 asterisks) is
  ``mrn``, as are a blood-bank armband number, lab accession and specimen numbers, a pathology
  case number, a PACS ``PatientID=`` in an error message, an unlabelled ``pt E…`` chart number and
  an encounter or Epic CSN. A Cerner FIN and an Epic HAR are the hospital account:
  ``account_number``, as are a guarantor account and a refund bank account. Bed, room, unit and
  bay codes scanned from a bed barcode, order numbers, transport and safety-event ticket ids and
  HL7 control ids are benign.
* Staff ids are ``custom`` (employee numbers, as in the second hold-out): badge numbers in access
  logs and cabinet witness records, ``emp_id``, cabinet and glucometer operator ids. So is a
  family privacy password. A staff login built from the person's name (``JMORALES2``,
  ``cgutierrez3``) is a ``name``. Names of clinicians, nurses, transporters, security officers and
  reporters are ``name`` like patients' names, and so are a surname alone, a patient's preferred
  nickname and a relative's first name. Overhead emergency codes that read as names
  ("Paging Dr. Strong", Code Gray), eponyms (Parkinson's, Foley, Hartmann's procedure), facility,
  pavilion and unit names (including "Grace Unit 3") and CSV headers of field names are benign.
* A numeric pager or callback number is ``phone`` like any other, including a pharmacy's. A
  unit's internal extension (``ext 4-5522``) routes to a station, not a person: benign. Any
  e-mail address is ``email``, a pager-gateway address and a unit's shared mailbox included.
* Manufacturer serial numbers of pumps, monitors, staff phones (Vocera, IMEI) and wearables, MAC
  and Bluetooth addresses, an ``android_id`` and the serial (AI 21) of an implant's UDI are
  ``device_id``. The UDI's GTIN, lot and expiry, biomed asset tags and telemetry box numbers
  (hospital-assigned, like a fleet van number), models, firmware and drug-library versions,
  alarm types and request ids are benign. Any IP address on the hospital network other than
  loopback is ``ip_address``, IPv6 included.
* Dates of admission, expected or actual discharge, surgery, a scheduled procedure, death and a
  patient's fall or other safety event are ``personal_date``. Access-badge expiry, supply expiry,
  PM due months and event timestamps are benign. Ages of 90 and above and a birth year that makes
  the patient older than 89 are ``age_over_89``; ages of 89 and below, fall-risk scores (Morse
  95), durations and lab values are benign.
* A PACS, chart or room-TV link carrying an MRN, accession number, reset token or patient name
  is ``url_identifier``; a worklist filtered by modality and status and a policy PDF are
  benign. A patient's home city is ``location``, as is an EMS pickup point at four decimals; a
  campus centroid at one decimal is benign. Plates of a wheelchair van and of a patient's car at
  the valet stand and an ambulance VIN are ``vehicle_id``. The prescriber's NPI, group numbers,
  RxBIN, NDC, LOINC, CPT and ICD-10 codes are benign; DEA, nursing and medical licence numbers, a
  visitor's driver's licence and a passport are ``license_number``.

blind10
-------

``data/pii_holdout_blind10.jsonl`` holds property values as European digital-health apps under
the GDPR send them: a German DiGA (app on prescription), a French teleconsultation service, a
Dutch GP-practice portal and an Italian pharmacy app, in German, French, Dutch, Italian and some
English: onboarding and insurance forms, card OCR, identity checks, addresses in each country's
format, appointment, prescription (e-Rezept, ordonnance, herhaalrecept, ricetta) and vaccination
texts, push, SMS and e-mail previews, SEPA mandates and payment logs, validation and error
messages, access logs and URLs with query strings. Each line has ``value``, an optional ``key``
(``"value"`` when absent), ``category`` (the expected redaction category, null for a benign value)
and an optional ``span`` (the part of the value that must not survive; the whole value when
absent). All data is fictitious: Bundesnetzagentur drama ranges (030 23125, 089 99998), ARCEP
fiction ranges (01 99 00, 06 39 98), Ofcom drama numbers, obviously made-up Dutch and Italian
numbers, example and ``.test`` domains, documentation IP ranges, published test card numbers, and
check digits computed for made-up IBANs (with French RIB keys and Italian CINs), KVNRs, Steuer-IDs,
a Rentenversicherungsnummer, a Personalausweis number, an e-Rezept id, NIRs, BSNs, codici fiscali,
a tessera sanitaria number, an RPPS number and IMEIs. At first contact the sanitiser's recall was
0.3831 (59/154), lenient 0.4091, and its false-positive rate 0.0198 (2/101); no label was
corrected.

* National identification numbers are national counterparts of the SSN, like the SIN, NI number
  and TFN: the French NIR (numéro de sécurité sociale, 13 digits and a two-digit key, spaced or
  not), also when it is read off the carte Vitale as "N° carte Vitale"; the Dutch BSN
  (burgerservicenummer, 11-proef, also grouped ``1234.56.789``); the Italian codice fiscale; the
  German Steuer-ID and Rentenversicherungsnummer: ``ssn``.
* Health-insurance beneficiary numbers are ``member_id``, like an NHS or Medicare number: the
  German Krankenversichertennummer (KVNR, "Versichertennummer", spaced or not), the personal
  identification number on a European Health Insurance Card, a Dutch polisnummer and relatienummer
  at the zorgverzekeraar, a French mutuelle adhérent number and the Italian tessera sanitaria card
  number. Insurer and mutuelle names are benign.
* A hospital Fallnummer, Patienten-ID, French IPP and numéro de dossier, Dutch patiëntnummer, an
  Italian cartella clinica number, an e-Rezept id and an Italian NRE (electronic prescription
  number) are ``mrn``, like a pharmacy Rx number. A DiGA Freischaltcode (the insurer's activation
  code), a booking confirmation code, a CUP booking code and an account verification code are
  ``custom``.
* A Personalausweis, passport, patente or rijbewijs number is ``license_number``; plates of a
  Krankentransport, VSL or zittend-ziekenvervoer taxi are ``vehicle_id``.
* Practitioners' public register numbers are benign like the NPI: RPPS and AGB codes, as are
  facility and organisation identifiers. A SEPA creditor identifier (Gläubiger-ID), a BIC and a
  BLZ identify an organisation or a bank: benign, and left as context next to an account number.
  A debtor's IBAN is ``iban``. A domestic account number (Kontonummer, conto corrente) and a SEPA
  Mandatsreferenz, the debtor's reference with the creditor, are ``account_number``. Invoice and
  order numbers are benign, like claim numbers.
* Birth wording in each language is birth wording: "Geburtsdatum", "geb.", "née le",
  "geboortedatum", "geboren op", "data di nascita" and "nata il" make a date ``date_of_birth``,
  in ``TT.MM.JJJJ``, ``JJ/MM/AAAA``, ``DD-MM-JJJJ``, ISO and spelled-out forms. Appointment
  (Videosprechstunde, rendez-vous, afspraak, appuntamento), discharge (Entlassung), admission
  (opname), surgery, vaccination and last-period dates are ``personal_date``, with or without a
  year. Release, update, promotion and "Stand" dates, ISO weeks, event timestamps and times such
  as "14:30 Uhr" or "18h30" are benign. A birth year alone is benign unless the person is over 89
  ("Jahrgang 1931" is ``age_over_89``); ages written "94 Jahre", "92 ans", "leeftijd: 91" and
  "96 anni" are ``age_over_89``.
* A street with its house number (Lindenstraße 34, 12 rue des Lilas, Kerkstraat 5, Via Roma 10)
  is ``street_address``. A full address line with postcode and town under an address key is one
  ``street_address`` identifier, and all of it must go. German, French and Italian five-digit
  postcodes and Dutch postcodes (``1017 GC``, ``3511LX``) under a postcode key or next to a search
  term are ``zip_code``. A patient's Wohnort, woonplaats, ville or comune di residenza, or a
  neighbourhood named in prose ("Ich wohne in Prenzlauer Berg"), is ``location``. A practice's or
  pharmacy's city, its coordinates at one decimal and a pharmacy's own address are benign, like a
  pay-to address. ``Europe/Berlin`` is benign.
* Doctors' names after a title ("Dr. med.", "Frau Dr.", "Docteur", "dokter", "dottoressa") are
  ``name``, with the span holding the name only. So are an assistant's first name, a first name
  in a push greeting ("Hallo Jonas", "Bonjour Camille"), a surname after "mevrouw" or "sig.ra",
  an emergency contact, a signature after "i. A.", a lowercase full name and a Befund file name
  carrying a surname. The German placeholder "Max Mustermann", a template variable, a salutation
  with no name ("Sehr geehrte Frau,"), facility names with saints' or eponymous names (Sankt
  Gertrauden, Necker, San Raffaele), eponymous diseases (Hashimoto, Alzheimer) and colour words
  ("rosa", "rose") are benign.
* Emergency and helpline short numbers (112, 116117, 15, 3114, 113, 0800-0113, 0900-1515) are
  benign. A numeric phone number, a practice's fax included, is ``phone`` in national and
  ``+country`` formats.
* PZN, CIP, AIC, ATC, ICD-10-GM, CIM-10 and ICPC codes, a DiGA directory id (five digits, though
  it looks like a postcode), prices with comma decimals, co-payments, percentages, app versions and
  build numbers are benign.
* A URL carrying a KVNR, a BSN, a codice fiscale, an activation code, an e-mail address or a
  password-reset token is ``url_identifier``.

blind11
-------

``data/pii_holdout_blind11.jsonl`` holds property values as US clinical-research, consumer-genomics
and public-health software sends them: a clinical-trial platform (eConsent audit trails, eCRF
fields and data queries, CDISC variable names, ePRO diaries and device provisioning, IWRS
randomisation and drug supply, SAE narratives and forms, site monitoring, delegation logs and
regulatory binders in a CTMS, participant stipends and travel reimbursement), a direct-to-consumer
genetic testing service (kit registration, sample and biobank ids, relative matching, raw-data
downloads, ancestry composition, checkout) and a state immunisation information system with
public-health case reporting (dose records with CVX/MVX codes and lots, reminder/recall, HL7 VXU
rejections, case investigation forms, contact-tracing notes, records requests), as form fields,
validation errors, audit entries, notification, SMS and e-mail previews, CSV exports, JSON payloads
and URLs, with lowercase and typos. Each line has ``value``, an optional ``key`` (``"value"`` when
absent), ``category`` (the expected redaction category, null for a benign value) and an optional
``span`` (the part of the value that must not survive; the whole value when absent). All data is
fictitious: 555-01xx numbers, example and ``.test`` domains, documentation IP ranges, published
test card numbers, and check digits computed for made-up IBANs, a VIN, an IMEI, a DEA number and
an NPI. At first contact the sanitiser's recall was 0.6892 (102/148), lenient 0.6959, and its
false-positive rate 0.0333 (3/90); no label was corrected.

* A trial subject, participant or screening number (``101-004``, ``SCR-3307-021``, a JSON
  ``subjectId``) is ``mrn``, labelled or under a subject key. HIPAA lets a covered entity keep a
  re-identification code that is not derived from the person, but only if the code is not
  disclosed: sent to an analytics vendor, it is the key to the participant's case book, like a
  patient number. A randomisation number is a per-participant code detectable only from its label:
  ``custom``. Site numbers, protocol and NCT numbers, IRB numbers, arms, cohorts, strata, visit
  names (Screening, Day 28, Week 12), subject counts and the id template ``SSS-NNN`` are benign.
  So are IWRS medication kit numbers, drug lots and shipment ids, which identify a package and
  not the participant.
* A genetic-testing kit barcode and a biobank sample or aliquot id identify a person's specimen,
  like a lab accession number: ``mrn``. Kit SKUs, genotyping chip and genome build, CLIA and CAP
  numbers, QC status, promo codes and parcel tracking numbers are benign. A personal referral code
  and an SMS verification code are ``custom``.
* Genetic results are not identifiers under Safe Harbor: rsIDs with genotypes (rs429358 C;T), gene
  names and HGVS variants, star alleles, haplogroups, ancestry percentages and ancestry regions
  (Southwestern Norway, Yoruba, Sicily, a voivodeship) are benign. A DNA relative's name (in a
  notification, a push text, a CSV export or a JSON ``display_name``) and a raw-data file name
  carrying the customer's name are ``name``. The ``display_name`` "Anonymous", shared-cM figures
  and predicted relationships are benign. A relative's age over 89 and a living relative's birth
  year that makes them older than 89 are ``age_over_89``. A birth city under a birth key and the
  customer's own town in an "about me" text are ``location``; a grandparent's birth country is
  benign.
* An immunisation-registry (IIS) client id is the person's record at a public-health record
  holder, not a health-plan beneficiary number: ``mrn``, like a state case-investigation number
  and a hospital MRN merged into the registry. A Medicaid ProviderOne id and a student's insurance
  member number are ``member_id``; a student id is ``custom``. CVX, MVX and NDC codes, vaccine
  lots and expiry dates, VIS edition dates, VFC eligibility codes, a clinic's VFC PIN, outbreak
  ids, HL7 control ids, dose numbers, forecasts and intervals are benign.
* Dates of consent, a scheduled or completed study visit, adverse-event onset, a concomitant
  medication's start, admission, death, saliva or specimen collection, vaccination, symptom onset
  and last exposure are ``personal_date``. A CDISC ``BRTHDTC`` and an HL7 PID-7 value are
  ``date_of_birth``, and so is a birth date echoed in a validation error whatever its format.
  Site activation, monitoring visit, release and report dates, ISO weeks and event timestamps are
  benign.
* Names of investigators, sub-investigators, coordinators, SAE reporters, witnesses, legally
  authorised representatives, public-health investigators (an initial and surname included),
  parents, emergency contacts, contacts named in a tracing note (first name alone included) and a
  mother's maiden name are ``name``. So are a source-document file name carrying a name, a staff
  login built from a name and an HL7 PID-5 ``FAMILY^GIVEN``. Sponsor, CRO, hospital and school
  names, eponymous diseases (Parkinson's, Hodgkin), study names that are words (HOPE-2, "Grace
  period") and template placeholders are benign.
* A sub-investigator's medical licence, a DEA number and a driver's licence shown as ID are
  ``license_number``; the PI's NPI is benign. An ePRO handheld's IMEI, serial number and
  ``android_id``, an IDFA and a home-delivery temperature logger's serial are ``device_id``. A
  participant's car VIN and plate and a mobile clinic van's plate are ``vehicle_id``.
* Stipend and refund bank accounts are ``account_number`` (or ``iban``), a ClinCard or kit-order
  card number is ``credit_card``, a W-9 SSN and a labelled SSN last four are ``ssn``, and a
  records-release PIN is ``custom``. A card's last four digits and expiry are benign.
* Links carrying an eConsent invite token, a password-reset token, a raw-data download e-mail, a
  share token or a registry client id are ``url_identifier``. Help pages, diary pages and a
  coverage report filtered by county and age band are benign.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from unified_health.analytics._sanitize import RedactionCategory, Sanitizer

DATA = Path(__file__).parent / "data"
MIN_RECALL = 0.97
MAX_FALSE_POSITIVE_RATE = 0.02
_TOKEN = re.compile(r"[^\W_]{3,}")
_MARKER = re.compile(r"\[REDACTED:[a-z0-9_]+\]")


@dataclass(frozen=True)
class Holdout:
    """One corpus and the size and benign share its author committed to."""

    name: str
    min_rows: int
    max_rows: int | None
    benign_share: tuple[float, float]

    @property
    def path(self) -> Path:
        return DATA / f"pii_holdout_{self.name}.jsonl"


HOLDOUTS = [
    Holdout("blind", 400, None, (0.3, 0.5)),
    Holdout("blind2", 400, None, (0.3, 0.5)),
    Holdout("blind3", 300, 350, (0.35, 0.45)),
    Holdout("blind4", 200, 250, (0.35, 0.45)),
    Holdout("blind5", 230, 260, (0.35, 0.45)),
    Holdout("blind6", 230, 260, (0.35, 0.45)),
    Holdout("blind7", 230, 260, (0.35, 0.45)),
    Holdout("blind8", 230, 260, (0.35, 0.45)),
    Holdout("blind9", 230, 260, (0.35, 0.45)),
    Holdout("blind10", 230, 260, (0.35, 0.45)),
    Holdout("blind11", 230, 250, (0.35, 0.45)),
]


@dataclass(frozen=True)
class Row:
    line: int
    key: str
    value: str
    category: str | None
    span: str


@dataclass
class Score:
    expected: Counter[str] = field(default_factory=Counter)
    caught: Counter[str] = field(default_factory=Counter)
    lenient: Counter[str] = field(default_factory=Counter)
    misses: list[tuple[int, str, list[str]]] = field(default_factory=list)
    benign: int = 0
    false_positives: list[tuple[int, list[str]]] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return sum(self.caught.values()) / max(1, sum(self.expected.values()))

    @property
    def false_positive_rate(self) -> float:
        return len(self.false_positives) / max(1, self.benign)

    def table(self) -> str:
        out = [
            f"{name:<16} {self.caught[name]:>3}/{n:<3} recall={self.caught[name] / n:.3f}"
            f" lenient={self.lenient[name] / n:.3f}"
            for name, n in sorted(self.expected.items())
        ]
        total = sum(self.expected.values())
        out.append(
            f"overall recall={self.recall:.4f} ({sum(self.caught.values())}/{total})"
            f" lenient={sum(self.lenient.values()) / max(1, total):.4f}"
            f" false_positive_rate={self.false_positive_rate:.4f}"
            f" ({len(self.false_positives)}/{self.benign})"
        )
        return "\n".join(out)


def load(path: Path) -> list[Row]:
    rows = []
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not text.strip():
            continue
        data = json.loads(text)
        rows.append(
            Row(
                line=number,
                key=data.get("key") or "value",
                value=data["value"],
                category=data.get("category"),
                span=data.get("span") or data["value"],
            )
        )
    return rows


def _strings(obj: object) -> list[str]:
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, dict):
        return [s for k, v in obj.items() for s in (*_strings(k), *_strings(v))]
    if isinstance(obj, list | tuple):
        return [s for item in obj for s in _strings(item)]
    return []


def score(rows: list[Row], sanitizer: Sanitizer | None = None) -> Score:
    sanitizer = sanitizer or Sanitizer()
    result = Score()
    for row in rows:
        scrubbed = sanitizer.scrub({row.key: row.value})
        reported = sorted(name for name, count in scrubbed.redactions.items() if count)
        if row.category is None:
            result.benign += 1
            if reported or scrubbed.properties != {row.key: row.value}:
                result.false_positives.append((row.line, reported))
            continue
        result.expected[row.category] += 1
        strings = _strings(scrubbed.properties)
        if not reported or any(row.span in s for s in strings):
            result.misses.append((row.line, row.category, reported))
            continue
        result.lenient[row.category] += 1
        context = row.value.replace(row.span, " ")
        rest = " ".join(_MARKER.sub(" ", s) for s in strings)
        leaked = any(t in rest and t not in context for t in _TOKEN.findall(row.span))
        right_category = row.category in reported or row.category == "url_identifier"
        if leaked or not right_category:
            result.misses.append((row.line, row.category, reported))
        else:
            result.caught[row.category] += 1
    return result


_SCORES: dict[str, Score] = {}


def _score_of(holdout: Holdout) -> Score:
    if holdout.name not in _SCORES:
        _SCORES[holdout.name] = score(load(holdout.path))
    return _SCORES[holdout.name]


holdouts = pytest.mark.parametrize("holdout", HOLDOUTS, ids=[h.name for h in HOLDOUTS])


@holdouts
def test_corpus_is_well_formed(holdout: Holdout) -> None:
    rows = load(holdout.path)
    names = {c.value for c in RedactionCategory}
    assert len(rows) >= holdout.min_rows
    if holdout.max_rows is not None:
        assert len(rows) <= holdout.max_rows
    for row in rows:
        assert row.category is None or row.category in names, row.line
        assert row.span in row.value, row.line
    low, high = holdout.benign_share
    benign = sum(row.category is None for row in rows)
    assert low <= benign / len(rows) <= high


@holdouts
def test_recall(holdout: Holdout) -> None:
    outcome = _score_of(holdout)
    detail = "\n".join(
        f"line {line}: expected {category}, reported {reported or 'nothing'}"
        for line, category, reported in outcome.misses
    )
    assert outcome.recall >= MIN_RECALL, f"{outcome.table()}\nmissed:\n{detail}"


@holdouts
def test_false_positive_rate(holdout: Holdout) -> None:
    outcome = _score_of(holdout)
    detail = "\n".join(
        f"line {line}: changed, reported {reported or 'nothing'}"
        for line, reported in outcome.false_positives
    )
    assert outcome.false_positive_rate <= MAX_FALSE_POSITIVE_RATE, (
        f"{outcome.table()}\nfalse positives:\n{detail}"
    )
