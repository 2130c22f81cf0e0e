import { Lazy } from "cdktf";
import { type PolicyStatement, policyDocument } from "./iam-document.ts";

/**
 * Something permissions can be granted to, as in aws-cdk-lib's `IGrantable`: a construct's
 * `grant*(principal)` method adds the statements the principal needs to its identity policy.
 */
export interface IPrincipal {
  addToPrincipalPolicy(statement: PolicyStatement): void;
}

/**
 * An identity policy that grants add statements to until synthesis: `document` is a lazy string that
 * renders every statement added so far (so grants may come after the policy resource is created).
 * Sids must be unique: IAM rejects a document with duplicates, so a second grant of the same Sid with
 * different content is refused here, and the same statement granted twice is kept once.
 */
export class PrincipalPolicy implements IPrincipal {
  private readonly statements: PolicyStatement[] = [];

  constructor(private readonly owner: string) {}

  addToPrincipalPolicy(statement: PolicyStatement): void {
    const same = this.statements.find((s) => s.Sid !== undefined && s.Sid === statement.Sid);
    if (same) {
      if (JSON.stringify(same) === JSON.stringify(statement)) return;
      throw new Error(
        `${this.owner}: two different statements with Sid ${statement.Sid}; give each grant its own Sid`,
      );
    }
    this.statements.push(statement);
  }

  /** The statements granted so far, in the order they were added. */
  get statementsSoFar(): readonly PolicyStatement[] {
    return [...this.statements];
  }

  /** The policy JSON, rendered at synthesis with every statement granted by then. */
  get document(): string {
    return Lazy.stringValue({ produce: () => policyDocument(this.statements) });
  }
}
