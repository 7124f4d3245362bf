"""Discovery of deployments from cloud billing (FOCUS exports) and CycloneDX ML-BOMs."""
