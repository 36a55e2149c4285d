"""What an evaluation will cost, printed before it starts (calls and tokens).

The estimate is a count times a size, and says so:

- interviews: how many questions the measure asks (diffusion: agents x probes x
  states; relationships: n (n - 1) x states; believability: agents x 25 x 4 ablations);
- tokens per interview: the answer prompt's parts measured on this simulation (the
  identity text, the retrieved memories = the config's interview.memories x the mean
  length of this run's memory descriptions, the template), at 4 characters a token,
  plus the answer's token budget (an upper bound); a second call of the same size when
  the config summarises memories first (the paper preset does);
- judge calls: one per interview (diffusion, relationships) or one per pair of
  conditions per question (believability with --judge), each a short prompt plus the
  quoted answer;
- runs (`--runs N --steps S`): N x S x agents x tokens per agent-step, taken from this
  run's own traces when it has any, else from the preset's target (docs/benchmarks.md).
Embeddings (one per interview) are counted as calls but carry no generation tokens.
"""

from __future__ import annotations

from dataclasses import dataclass

CHARS_PER_TOKEN = 4


def tokens_of(chars: float) -> int:
    return round(chars / CHARS_PER_TOKEN)


@dataclass(frozen=True)
class Estimate:
    interviews: int
    calls_per_interview: int  # model calls (excluding the embedding)
    prompt_tokens_per_interview: int
    completion_tokens_per_interview: int
    judge_calls: int = 0
    judge_prompt_tokens: int = 0
    judge_completion_tokens: int = 0
    run_steps: int = 0  # total steps over all runs
    agents: int = 0
    tokens_per_agent_step: float = 0.0
    step_source: str = ""  # where tokens_per_agent_step came from

    @property
    def interview_tokens(self) -> int:
        return self.interviews * (self.prompt_tokens_per_interview + self.completion_tokens_per_interview)

    @property
    def judge_tokens(self) -> int:
        return self.judge_calls * (self.judge_prompt_tokens + self.judge_completion_tokens)

    @property
    def run_tokens(self) -> int:
        return int(self.run_steps * self.agents * self.tokens_per_agent_step)

    @property
    def calls(self) -> int:
        return self.interviews * self.calls_per_interview + self.judge_calls

    @property
    def tokens(self) -> int:
        return self.interview_tokens + self.judge_tokens + self.run_tokens

    def lines(self) -> list[str]:
        out = [
            f"estimate: {self.calls:,} model calls (+{self.interviews:,} embeddings), about {self.tokens:,} tokens",
            f"  interviews: {self.interviews:,} x {self.calls_per_interview} call(s) x ~"
            f"{self.prompt_tokens_per_interview:,} prompt + <= {self.completion_tokens_per_interview:,} answer tokens"
            f" = {self.interview_tokens:,}",
        ]
        if self.judge_calls:
            out.append(
                f"  judge: {self.judge_calls:,} calls x ~{self.judge_prompt_tokens:,} prompt + <= "
                f"{self.judge_completion_tokens:,} tokens = {self.judge_tokens:,}"
            )
        if self.run_steps:
            out.append(
                f"  runs: {self.run_steps:,} steps x {self.agents} agents x ~{self.tokens_per_agent_step:,.0f} "
                f"tokens per agent-step ({self.step_source}) = {self.run_tokens:,}"
            )
        out.append(
            "  (sizes measured on this run's identities and memories at 4 characters a token; "
            "answers counted at their full token budget, so this is an upper bound)"
        )
        return out
