"""The shipped categories; the shipped articles live in ``articles/<locale>/*.md``."""

from __future__ import annotations

from unified_health.knowledge_base._models import Category

__all__ = ["DEFAULT_CATEGORIES"]

DEFAULT_CATEGORIES: tuple[Category, ...] = (
    Category(slug="getting-started", title="Getting started", order=0,
             titles={"es": "Primeros pasos"}),
    Category(slug="visits", title="Visits and appointments", order=1,
             titles={"es": "Consultas y citas"}),
    Category(slug="video-visits", title="Video visits", parent="visits", order=0,
             titles={"es": "Videoconsultas"}),
    Category(slug="appointments", title="Appointments", parent="visits", order=1,
             titles={"es": "Citas"}),
    Category(slug="prescriptions", title="Prescriptions and refills", order=2,
             titles={"es": "Recetas y renovaciones"}),
    Category(slug="lab-results", title="Lab and test results", order=3,
             titles={"es": "Resultados de laboratorio"}),
    Category(slug="billing", title="Billing and payments", order=4,
             titles={"es": "Facturación y pagos"}),
    Category(slug="insurance", title="Insurance", parent="billing", order=0,
             titles={"es": "Seguro médico"}),
    Category(slug="accounts", title="Your account and sign-in", order=5,
             titles={"es": "Su cuenta"}),
    Category(slug="messaging", title="Messaging your care team", order=6,
             titles={"es": "Mensajes"}),
    Category(slug="privacy", title="Privacy and your rights", order=7,
             titles={"es": "Privacidad"}),
    Category(slug="accessibility", title="Accessibility", order=8,
             titles={"es": "Accesibilidad"}),
)  # fmt: skip
