/**
 * Process lifecycle state shared by the readiness check and the shutdown sequence: once
 * draining starts, `/ready` answers 503 so load balancers stop sending new work.
 */
export class Lifecycle {
  #draining = false
  readonly startedAt = Date.now()

  get draining(): boolean {
    return this.#draining
  }

  startDraining(): void {
    this.#draining = true
  }

  uptimeSeconds(): number {
    return Math.floor((Date.now() - this.startedAt) / 1000)
  }
}
