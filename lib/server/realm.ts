/** The registered clients, by id. */
import type { Client } from './client'

export class Realm {
  private readonly clients = new Map<string, Client>()

  /** How many clients are registered. */
  get size (): number { return this.clients.size }

  /** The registered ids. */
  ids (): string[] { return [...this.clients.keys()] }

  get (id: string): Client | undefined { return this.clients.get(id) }

  add (client: Client): void { this.clients.set(client.id, client) }

  /** Removes `client` if it is still the one registered under its id. */
  remove (client: Client): boolean {
    if (this.clients.get(client.id) !== client) return false
    this.clients.delete(client.id)
    return true
  }

  all (): IterableIterator<Client> { return this.clients.values() }

  /** A fresh id no client has, from `generate`. */
  freshId (generate: () => string): string {
    for (let i = 0; i < 100; i++) {
      const id = String(generate())
      if (!this.clients.has(id)) return id
    }
    throw new Error('generateClientId keeps returning ids in use')
  }
}
