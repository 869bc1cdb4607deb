"""The JSON API under /api/ (django-ninja). See the contract's "JSON API" section."""

from ninja import NinjaAPI

api = NinjaAPI(title="Lead distribution CRM API", version="1.0", urls_namespace="api")
