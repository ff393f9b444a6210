"""Hydra configs of the CLI: one primary config per command, the benchmark presets, the typed
schemas (``schema``) and the catalog config source (``catalog_source``), registered on import."""

from hydra._internal.sources_registry import SourcesRegistry

from robostress.conf import schema as schema
from robostress.conf.catalog_source import CatalogConfigSource

SourcesRegistry.instance().register(CatalogConfigSource)
schema.register()
