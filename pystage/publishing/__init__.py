"""Publishing: npm's client-side publish checks, the manifest it publishes
(normalization), the streamed publish document, and the stage-publish flow."""
