"""Files and generated media: uploaded and generated files owned by users (files), and images, speech,
transcripts, embeddings and videos with their usage charged (generation)."""
