"""The ``new`` feature engine (the default): configurable families, streamed fit/transform."""
