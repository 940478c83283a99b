// Template families: a user-prompt family builds the user's request around a carrier; an
// output family builds the content that the carrier returns. Splits are made by family.
import type { Rng } from '../rng';
import type { WorldPatch } from '../world';
import type { CarrierKind, Embedded } from './carriers';
import type { AttackerSpec, CallPattern, ConcreteCall, Label, SensitiveAction } from './types';

export interface UserPart {
  user: string;
  tools: string[];
  plan: ConcreteCall[];
  required: CallPattern[];
  goal: string;
  sensitive: SensitiveAction[];
  /** For malicious users: what makes the request harmful. */
  harm?: Omit<AttackerSpec, 'source' | 'trigger' | 'instruction' | 'dataStealing'>;
  patches?: WorldPatch[];
}

export interface UserFamily {
  id: string;
  label: Label;
  carrier: CarrierKind;
  build(rng: Rng, e: Embedded): UserPart;
}

export interface OutputPart {
  payload: string;
  technique: string;
  tools: string[];
  patches?: WorldPatch[];
  attacker?: AttackerSpec;
  sensitive?: SensitiveAction;
}
