/** Confidence as a base plus named reasons, so the report can say why it is sure or unsure. */
export interface ConfidenceReason {
  delta: number;
  reason: string;
}

export class Confidence {
  readonly reasons: ConfidenceReason[] = [];
  constructor(private base: number, baseReason: string) {
    this.reasons.push({ delta: base, reason: baseReason });
  }
  add(delta: number, reason: string): this {
    this.reasons.push({ delta, reason });
    return this;
  }
  get value(): number {
    const v = this.reasons.reduce((s, r) => s + r.delta, 0);
    return Math.round(Math.min(0.99, Math.max(0.05, v)) * 100) / 100;
  }
  /** Fields of a finding. */
  toFinding(): { confidence: number; confidenceReasons: ConfidenceReason[] } {
    return { confidence: this.value, confidenceReasons: this.reasons };
  }
}
