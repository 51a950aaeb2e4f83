/**
 * Where the generated password of the first admin is kept until someone signs in with it (a
 * port: `store/` implements it as a file in the data directory). Printing it once was not
 * enough: a start that failed right after creating the admin lost it for good.
 */

/** Keeps the first admin's generated password until it has been used. */
export interface InitialPasswordStore {
  /** Where it is kept, for the message that points there. */
  readonly location: string;
  /** The kept password, or undefined when there is none. */
  read(): string | undefined;
  /** Keeps `password`, readable by the owner only. */
  write(password: string): void;
  /** Forgets it; nothing happens when there is none. */
  remove(): void;
}
