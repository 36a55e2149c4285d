"""The pieces behind training/envs/alfworld_env.py.

- layouts.py: our own rooms and household tasks (the source of the sample set);
- problem.py: a task as a PDDL problem in the ALFRED domain;
- engine.py: ALFWorld's engine (TextWorld's PddlEnv + AlfredDemangler), game files'
  content, the parse check, the lock and the library pool;
- build.py: `python -m training.envs.alfworld_games.build` writes the sample set, or
  ALFWorld-style game files (`--game-tree DIR`).
"""
