// Which person number a Helsebro patient id stood for the last time it was asked about. The access
// decision uses it to ask for the patient's facts (reservations, address protection, guardians) in the
// same tick as it loads the stored patient, so both reads travel together: one statement to the store in
// demo mode, two concurrent calls in production, instead of one after the other. It is a guess about whom
// to ask, never an answer: the facts are fetched fresh every time, and used only when the stored patient
// still carries that number (decide.ts asks again otherwise).
export class PersonNumbers {
  private readonly byId = new Map<string, string>();
  private readonly capacity: number;

  constructor(capacity = 10_000) {
    this.capacity = capacity;
  }

  get(id: string): string | undefined {
    const fnr = this.byId.get(id);
    if (fnr !== undefined) {
      // Most recently used last, so the oldest is the first key when one has to go.
      this.byId.delete(id);
      this.byId.set(id, fnr);
    }
    return fnr;
  }

  set(id: string, fnr: string): void {
    this.byId.delete(id);
    this.byId.set(id, fnr);
    if (this.byId.size > this.capacity) this.byId.delete(this.byId.keys().next().value!);
  }

  get size(): number {
    return this.byId.size;
  }
}
