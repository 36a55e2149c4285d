"""RISE (and later Retroformer): environments, generation, conversion, finetuning and
evaluation. Pure algorithms live in envs/ and rise/; models, services and commands are
the Django shell around them. torch, transformers, TRL and PEFT are imported lazily."""
