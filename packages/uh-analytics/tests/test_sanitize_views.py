"""Folded and decoded views, embedded pairs and the key qualifiers of the sanitiser."""

from __future__ import annotations

import pytest

from unified_health.analytics._sanitize import Sanitizer
from unified_health.analytics._scrub._keys import normalise_key

SANITIZER = Sanitizer()


@pytest.mark.parametrize(
    ("value", "category", "survives"),
    [
        ("card \uff14\uff11\uff11\uff11 \uff11\uff11\uff11\uff11 \uff11\uff11\uff11\uff11 "
         "\uff11\uff11\uff11\uff11", "credit_card", "card "),
        ("text me on 202\u00a0555\u00a00164", "phone", "text me on "),
        ("SSN 145\u201382\u20133376", "ssn", "SSN "),
        ("ssn%3D447-19-3321%26step%3D2", "ssn", "ssn%3D"),
        ("dob%3D1962-03-08", "date_of_birth", "dob%3D"),
        ("https%3A%2F%2Fportal.example.com%2Fpatient%2F661203%2Fvisits", "url_identifier",
         "%2Fvisits"),
        ('{"memberId":"MBR-0048812","planCode":"PPO-GOLD"}', "member_id", "PPO-GOLD"),
        ('{"age":99,"sex":"M"}', "age_over_89", '"sex":"M"'),
        ("geo=51.507351,-0.127758&acc=12", "location", "&acc=12"),
        ("Patient home at 34.052235, -118.243683", "location", "Patient home at "),
        ("SSN ending 4518 is 603274518", "ssn", "SSN ending 4518 is "),
        ("invalid phone number; got 4155550177", "phone", "invalid phone number; got "),
        ("aged ninety-three", "age_over_89", "aged "),
        ("born on the 5th of November 1955", "date_of_birth", "born on the "),
        ("9 rue des Lilas", "street_address", ""),
        ("first.last@[192.0.2.10]", "email", ""),
        ("uhapp://patient/773-221/messages", "url_identifier", "/messages"),
        ("Signed by: Bernard Okafor on behalf of the patient", "name", "on behalf of"),
    ],
)  # fmt: skip
def test_identifier_is_redacted(value: str, category: str, survives: str) -> None:
    cleaned, counts = SANITIZER.scrub_value(value, key="value")
    assert category in counts
    assert survives in cleaned


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("clinic_city", "Springfield"),
        ("crash_address", "0xDEADBEEF"),
        ("map_center", "37.8,-122.4"),
        ("score", "0.9731, 0.0269"),
        ("note", "Phone verified in 45s; request id 2025550123"),
        ("note", "Referred by Cardiology"),
        ("payload", '{"variant":"B","experiment":"onboarding_v4","exposed":true}'),
        ("query", "q=blood%20pressure%20monitor&page=2"),
        ("hours", "Mon\u2013Fri 08:00\u201318:00"),
        ("utm", "utm_source=newsletter&utm_medium=email"),
    ],
)
def test_benign_value_survives(key: str, value: str) -> None:
    result = SANITIZER.scrub({key: value})
    assert result.properties == {key: value}
    assert not result.redactions


@pytest.mark.parametrize(
    ("key", "category"),
    [
        ("signed_by", "name"),
        ("contact_person", "name"),
        ("witness", "name"),
        ("home_city", "location"),
        ("bluetooth_address", "device_id"),
        ("ipv4_address", "ip_address"),
    ],
)
def test_sensitive_key_redacts_whole_value(key: str, category: str) -> None:
    result = SANITIZER.scrub({key: "Ingrid Solberg"})
    assert dict(result.redactions) == {category: 1}


@pytest.mark.parametrize(
    ("key", "value", "category", "survives"),
    [
        ("upload", "maria_garcia_mri.jpg", "name", "_mri.jpg"),
        ("upload", "Report_Lopez_Maria.pdf", "name", "Report_"),
        ("photo", "https://cdn.example.org/media/david-chen-headshot.webp", "name",
         "-headshot.webp"),
        ("chat", "Hello, this is Priya Shah from the front desk", "name", "from the front desk"),
        ("chat", "Hi, I'm Daniel Okafor", "name", "Hi, I'm "),
        ("csv", "patient_name,Ana Ruiz\nvisit,follow-up", "name", "visit,follow-up"),
        ("link", "https://instagram.com/ana.ruiz.77", "url_identifier", "instagram.com/"),
        ("link", "https://m.facebook.com/ana.ruiz.77?ref=bookmarks", "url_identifier", "?ref="),
        ("link", "https://www.tiktok.com/@ana.ruiz/video/1", "url_identifier", "/video/1"),
        ("link", "https://www.linkedin.com/in/ana-ruiz-19a2b3", "url_identifier", "/in/"),
        ("route", "/records/MRN-0042117", "mrn", "/records/"),
        ("search_query", "urgent care open now 94110", "zip_code", "urgent care open now "),
        ("q", "flu shot 60614-1234", "zip_code", "flu shot "),
        ("address_line2", "Portland, OR 97201", "zip_code", ""),
        ("error", "'12-345-6789' is not a valid social security number", "ssn", "' is not"),
        ("error", "SSN 123-45-678 rejected", "ssn", " rejected"),
        ("error", "card number 4111 1111 1111 112 declined", "credit_card", " declined"),
        ("error", "'02118' is an invalid zip code", "zip_code", "' is an invalid"),
        # Spanish labels count as their English counterparts.
        ("note", "la paciente nació el 5 de mayo de 1944", "date_of_birth", "la paciente nació el"),
        ("ocr", "Hijo: fecha nac. 2021/11/03", "date_of_birth", "Hijo: fecha nac."),
        ("sms", "Su visita está programada para el 12 de marzo de 2026.", "personal_date", "Su "),
        ("note", "Paciente de 94 años, vive sola", "age_over_89", " años"),
        ("intake", "nacido en 1931, veterano", "age_over_89", "nacido en"),
        ("ocr", "expediente: HH-0045521", "mrn", "expediente"),
        ("ocr", "Número de afiliado: MOL-00482291-01", "member_id", "afiliado"),
        ("ivr", "últimos 4 del seguro social: 7731", "ssn", "seguro social"),
        ("ocr", "Licencia de conducir: H512-734-82-910-0", "license_number", "conducir"),
        ("ride", "placa TX: LKP 4821", "vehicle_id", "placa TX"),
        ("form", "código postal 85706", "zip_code", "postal"),
        ("sms", "Hola Sra. Guadalupe Ortiz, su lectura fue 138/86", "name", "Hola Sra. "),
        ("push", "recordatorio para dolores treviño: tomar lectura", "name", ": tomar lectura"),
        ("contact", "Emergency contact — Ana Lucía Beltrán (hija)", "name", "(hija)"),
        # Names a relative, a role word, a quote or a "LAST, FIRST" form introduces.
        ("note", "ongoing conflict with her brother Rafferty about the move", "name", "about"),
        ("alert", "callback overdue, assigned to Priya Raghunathan, queue p1", "name", ", queue"),
        ("erx", "patient name mismatch (sent 'Wendell Oyelaran', expected)", "name", "', expected"),
        ("log", "Processing A08 for patient FITZGERALD-NWOSU, CIARAN", "name", "for patient"),
        ("csv", "Provider\tPatient\tCPT\nBH-Team-2\tOyelowo, Chidinma\t90837", "name",
         "\t90837"),
        ("csv", "statement_id,billing_account\nST-88120,BA4410992", "account_number", "ST-88120"),
        ("upload", "uploads/intake/signature_lorcan_mcgillicuddy.png", "name", "signature_"),
        ("upload", "ref_packet_QUINTANILLA_ESPERANZA_20260311.pdf", "name", "ref_packet_"),
        ("audit_query", "szymanski, dorota", "name", ""),
        ("push", "Mike Donnelly shared his blood pressure log with you", "name", " shared"),
        # HL7 v2 field references and FHIR resources.
        ("error", "XTN parse error in PID-13: '^PRN^PH^^1^206^5550143'", "phone", "PID-13"),
        ("error", "PV1-44 admit date/time 202602110845 invalid timezone", "personal_date",
         " invalid timezone"),
        ("error", "A40 merge failed: prior patient id (MRG-1) 'C-118224' not found", "mrn",
         "' not found"),
        ("fhir", '{"resourceType":"RelatedPerson","name":[{"text":"Anouk de Vries"}]}', "name",
         "RelatedPerson"),
        ("fhir", '{"type":{"coding":[{"code":"MR"}]},"value":"E662019"}', "mrn", '"MR"'),
        ("fhir", '{"resourceType":"Encounter","period":{"start":"2026-03-09"}}', "personal_date",
         '"start"'),
        # Other shapes: spelled-out addresses, reset tokens, SIM ICCIDs, typed IBANs.
        ("intake", "email: rowan dot fairweather at example dot org", "email", "email: "),
        ("link", "https://app.example.com/reset-password/7f4e9a2c81b04d6e9a1f33c0be27d58a",
         "url_identifier", "/reset-password/"),
        ("request", "POST /fhir/Patient?identifier=urn:oid:2.16.840.1|E551902 412",
         "url_identifier", " 412"),
        ("hub", "SIM 8901260882291234562", "device_id", "SIM "),
        ("payment", "payer bank DE3750010517064710283991", "iban", "payer bank "),
        ("path", "inbound/labs/ORU_pt84420193_20260313.hl7", "mrn", "inbound/labs/ORU_"),
        ("alert", "portal enrollment code RWT-4482-KM sent", "custom", " sent"),
        ("emergency_contact", "cel. 786.555.0135 (hija)", "phone", ""),
        ("patient_address", '{"use":"home","city":"Yakima","state":"WA"}', "location", ""),
    ],
)  # fmt: skip
def test_contextual_identifier_is_redacted(
    key: str, value: str, category: str, survives: str
) -> None:
    result = SANITIZER.scrub({key: value})
    cleaned = result.properties[key]
    assert isinstance(cleaned, str)
    assert category in result.redactions
    assert survives in cleaned


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("file_name", "insurance_card_front.png"),
        ("file_name", "will_form.pdf"),
        ("file_name", "scan_2024_03_01.pdf"),
        ("asset", "https://cdn.x.com/img/hero-banner.png"),
        ("chat", "this is Main Street Pharmacy calling"),
        ("chat", "This is Not Working"),
        ("chat", "I'm Feeling Better today"),
        ("csv", "first_name,last_name,dob"),
        ("link", "https://twitter.com/intent/tweet?text=hello"),
        ("link", "https://www.linkedin.com/company/example-health"),
        ("link", "https://www.youtube.com/watch?v=dQw4w9WgXcQ"),
        ("route", "/vaccines/mrna2024/info"),
        ("search_query", "cpt 99213"),
        ("search_query", "covid booster 2026"),
        ("error", "'abc' is not a valid SSN"),
        ("ga4_id", "G-ABCDE12345"),
        ("s3_bucket", "uh-exports"),
        ("symptoms", "Dolores de cabeza: sí; mareos: no"),
        ("help_text", "LED: luz verde fija = emparejado"),
        ("sms_body", "Hola Sra., su kit fue entregado."),
        ("eligibility", "Group number GRP44102 - Evergreen Behavioral Plan"),
        ("report", "Count of patients aged 90+: 12"),
        ("firmware_version", "4.12.0.3"),
        ("interface_engine_version", "10.4.2.1"),
        ("patient_name", "<masked>"),
        ("hl7", "MSH|^~\\&|EPIC|CRBH|MIRTH|UH|20260314083012||ADT^A08^ADT_A01|0000482913|P|2.5.1"),
        ("hl7", "IN1|1|BHP01|88120|Evergreen Behavioral Plan"),
        ("error", "ACK^A08 AE: PID-3 required but missing"),
        ("error", "PID-5 Patient Name: required"),
        ("file_name", "Annual_Wellness_Visit.pdf"),
        ("feature", "Driver Mode"),
        ("role", "Nurse Practitioner on call"),
    ],
)
def test_contextual_benign_value_survives(key: str, value: str) -> None:
    result = SANITIZER.scrub({key: value})
    assert result.properties == {key: value}
    assert not result.redactions


@pytest.mark.parametrize(
    ("key", "tokens"),
    [
        ("ga4_id", ("ga4", "id")),
        ("GA4Id", ("ga4", "id")),
        ("patient_name_2", ("patient", "name")),
        ("addressLine1", ("address", "line")),
        ("ipv6", ("ipv",)),
        ("cvv2", ("cvv",)),
        ("patient_id2", ("patient", "id")),
        ("e164Phone", ("e164", "phone")),
    ],
)
def test_digits_stay_in_short_key_words(key: str, tokens: tuple[str, ...]) -> None:
    assert normalise_key(key) == tokens


@pytest.mark.parametrize(
    ("key", "value", "category", "survives"),
    [
        # X12 EDI segments and element references.
        ("segment", "NM1*IL*1*DOE*JANE****MI*XJQ400123456~", "name", "NM1*IL*1*"),
        ("segment", "NM1*IL*1*DOE*JANE****MI*XJQ400123456~", "member_id", "****MI*"),
        ("segment", "REF*SY*123456789~", "ssn", "REF*SY*"),
        ("segment", "DMG*D8*19700101*M~", "date_of_birth", "DMG*D8*"),
        ("segment", "DTP*472*D8*20260110~", "personal_date", "DTP*472*D8*"),
        ("segment", "N4*SPOKANE*WA*99201~", "zip_code", "*WA*"),
        ("segment", "PER*IC*FRONT DESK*TE*5095550142~", "phone", "PER*IC*"),
        ("segment", "CLP*PCN778812*1*100*80**12*ICN1~", "account_number", "*1*100*80"),
        ("error", "NM109 'AB1234567' failed length check", "member_id", "' failed"),
        # Pregnancy, fertility and loss dates, with and without a year.
        ("note", "EDD 2026-10-02, feeling good", "personal_date", "EDD "),
        ("note", "egg retrieval on 4/2 went ok", "personal_date", "egg retrieval on "),
        ("note", "anniversary of mum's death, June 9th", "personal_date", "anniversary"),
        ("note", "the baby arrived 03/05/2026 at 2am", "date_of_birth", "the baby arrived "),
        # Names with weak cues.
        ("note", "coffee with Maya later", "name", "coffee with "),
        ("note", "my brother ivan called", "name", "my brother "),
        ("quoted_reply", "On Mon, 2 Mar 2026, Priya Nair wrote:\n> hi", "name", " wrote:"),
        ("note", "Note by Tane Walker: resubmitted", "name", "Note by "),
        ("sql", "SELECT * FROM t WHERE last_name ILIKE 'nowak%'", "name", "last_name ILIKE"),
        ("file", "EOB_20260211_KOWALCZYK_A.pdf", "name", "EOB_20260211_"),
        # National identifiers and places outside the US.
        ("note", "NI number AB 12 34 56 C", "ssn", "NI number "),
        ("note", "OHIP 1234-567-897 AB", "member_id", "OHIP "),
        ("note", "sort code 20-00-00 acc 12345678", "account_number", "sort code"),
        ("note", "I live in Hackney now", "location", "I live in "),
        # Ages, phones and codes.
        ("note", "my gran, she's 97 this year", "age_over_89", "she's "),
        ("care_recipient_age", "93", "age_over_89", ""),
        ("transcript", "it's six one seven five five five zero one two three", "phone", "it's"),
        ("transcript", "number is 6 1 7 5 5 5 0 1 2 3", "phone", "number is"),
        ("note", "referral code AB-12CD-9", "custom", "referral code "),
    ],
)  # fmt: skip
def test_weakly_cued_identifier_is_redacted(
    key: str, value: str, category: str, survives: str
) -> None:
    result = SANITIZER.scrub({key: value})
    cleaned = result.properties[key]
    assert isinstance(cleaned, str)
    assert category in result.redactions, cleaned
    assert survives in cleaned


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("segment", "NM1*85*2*VALLEY CLINIC PLLC*****XX*1427683507~"),
        ("segment", "REF*G1*PA2026011834~"),
        ("validation", "Pay-to (2010AB) N3*LOCKBOX 4417*DEPT 0921~ accepted"),
        ("statement", "Statement date 02/01/2026, payment due date 02/25/2026"),
        ("therapist_city", "Toronto"),
        ("directory_filters", "modality=CBT&city=Vancouver"),
        ("masked_email", "j\u2022\u2022\u2022@example.com"),
        ("placeholder", "name@example.com"),
        ("csv_header", "patient_name,dob,mrn,balance"),
        ("cache_max_age", "3600"),
        ("insight", "90+ days AR reduced 3.1% MoM"),
        ("mood", "feeling hope and joy today, thanks Mom"),
    ],
)
def test_weak_cue_lookalike_survives(key: str, value: str) -> None:
    result = SANITIZER.scrub({key: value})
    assert result.properties == {key: value}
    assert not result.redactions
