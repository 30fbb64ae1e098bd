/**
 * The policy enforcer: Warre's registered defaults, overridden by the operator's policy file
 * and policy directories (docs/interop.md#policy-files), re-read when those files change.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { type Logger, SILENT_LOGGER } from '../domain/logger.js';
import { type Check, evaluate, parseCheck, parseRule, type RuleLookup, referencedRules } from './check.js';
import { POLICY_DEFAULTS, REGISTERED_POLICIES } from './defaults.js';

export interface PolicyEnforcerOptions {
  /** `[oslo_policy] policy_file`; a missing file means defaults only. */
  policyFile?: string | null;
  /** `[oslo_policy] policy_dirs`; their files apply after `policyFile`, in name order. */
  policyDirs?: string[];
  /** Where rule-file problems are reported (only warn and error are used). */
  logger?: Pick<Logger, 'warn' | 'error'>;
  /** `[oslo_policy] policy_default_rule`: used for names without a rule, when defined. */
  defaultRule?: string;
  /** How often, at most, the files are stat'ed for changes (default 1000 ms). */
  checkIntervalMs?: number;
}

/** `authorize()` was asked about a rule that Warre does not register. */
export class PolicyNotRegisteredError extends Error {
  constructor(readonly policy: string) {
    super(`Policy ${policy} has not been registered`);
    this.name = 'PolicyNotRegisteredError';
  }
}

const SILENT = SILENT_LOGGER;

/** The merged rules, with oslo's fallback to the default rule for unknown names. */
class RuleSet implements RuleLookup {
  constructor(
    readonly rules: ReadonlyMap<string, Check>,
    private readonly defaultRule: string,
  ) {}

  get(name: string): Check | undefined {
    return this.rules.get(name) ?? this.rules.get(this.defaultRule);
  }
}

export class PolicyEnforcer {
  private readonly policyFile: string | null;
  private readonly policyDirs: readonly string[];
  private readonly logger: Pick<Logger, 'warn' | 'error'>;
  private readonly defaultRule: string;
  private readonly checkIntervalMs: number;
  private ruleSet: RuleSet;
  /** Stamp of the files the rules were read from; a different stamp means reload. */
  private stamp: string;
  private nextCheckAt: number;

  constructor(options: PolicyEnforcerOptions = {}) {
    this.policyFile = options.policyFile ?? null;
    this.policyDirs = options.policyDirs ?? [];
    this.logger = options.logger ?? SILENT;
    this.defaultRule = options.defaultRule ?? 'default';
    this.checkIntervalMs = options.checkIntervalMs ?? 1000;
    this.stamp = this.filesStamp();
    this.ruleSet = this.load();
    this.nextCheckAt = Date.now() + this.checkIntervalMs;
  }

  /**
   * Checks a registered rule; throws {@link PolicyNotRegisteredError} for any other name.
   * `target` is what is acted on (`{project_id}` for reservation items, else `{}`),
   * `creds` the caller's `to_policy_values()`.
   */
  authorize(rule: string, target: Record<string, unknown>, creds: Record<string, unknown>): boolean {
    if (!REGISTERED_POLICIES.has(rule)) throw new PolicyNotRegisteredError(rule);
    return this.enforce(rule, target, creds);
  }

  /** Checks any rule, including ones only in the policy file; unknown names deny. */
  enforce(rule: string, target: Record<string, unknown>, creds: Record<string, unknown>): boolean {
    this.reloadIfChanged();
    const rules = this.ruleSet;
    const check = rules.get(rule);
    return check !== undefined && evaluate(check, target, creds, rules);
  }

  /** Re-reads the files when their stamp changed; at most once per check interval. */
  private reloadIfChanged(): void {
    if (this.policyFile === null && this.policyDirs.length === 0) return;
    const now = Date.now();
    if (now < this.nextCheckAt) return;
    this.nextCheckAt = now + this.checkIntervalMs;
    const stamp = this.filesStamp();
    if (stamp === this.stamp) return;
    this.stamp = stamp;
    try {
      this.ruleSet = this.load();
    } catch (err) {
      // A broken edit must not take the API down: keep serving the previous rules.
      this.logger.error(`${(err as Error).message}; keeping the previous policy rules`);
    }
  }

  /** The files to read, in the order they apply (later wins). */
  private files(): string[] {
    const files: string[] = [];
    if (this.policyFile !== null && isFile(this.policyFile)) files.push(this.policyFile);
    for (const dir of this.policyDirs) {
      let names: string[];
      try {
        names = fs.readdirSync(dir).sort();
      } catch {
        continue; // a missing policy directory is fine, as in oslo.policy
      }
      for (const name of names) {
        const file = path.join(dir, name);
        if (!name.startsWith('.') && isFile(file)) files.push(file);
      }
    }
    return files;
  }

  /** mtime and size of every file (and directory) the rules come from. */
  private filesStamp(): string {
    const paths = [...(this.policyFile === null ? [] : [this.policyFile]), ...this.policyDirs, ...this.files()];
    return paths
      .map((p) => {
        const st = fs.statSync(p, { throwIfNoEntry: false });
        return st ? `${p}\0${st.mtimeMs}\0${st.size}` : `${p}\0-`;
      })
      .join('\n');
  }

  /** Builds the rule set: the policy file, then the policy dirs (later wins), then defaults for the rest. */
  private load(): RuleSet {
    const onError = (msg: string): void => this.logger.error(msg);
    const rules = new Map<string, Check>();
    for (const file of this.files()) {
      for (const [name, value] of Object.entries(readPolicyFile(file))) {
        try {
          rules.set(name, parseRule(value, onError));
        } catch (err) {
          throw new Error(`Policy file ${file}: rule "${name}": ${(err as Error).message}`);
        }
      }
    }
    for (const d of POLICY_DEFAULTS) {
      if (!rules.has(d.name)) rules.set(d.name, parseCheck(d.check, onError));
    }
    const ruleSet = new RuleSet(rules, this.defaultRule);
    this.logSuspectRules(ruleSet);
    return ruleSet;
  }

  /** Warns about references to undefined rules and cycles, as oslo.policy's check_rules does. */
  private logSuspectRules(ruleSet: RuleSet): void {
    const undefinedRefs: string[] = [];
    const cyclic: string[] = [];
    // Depth-first search: a rule is cyclic when it reaches a rule still being visited.
    const state = new Map<string, 'visiting' | 'cyclic' | 'ok'>();
    const visit = (name: string): boolean => {
      const seen = state.get(name);
      if (seen !== undefined) return seen !== 'ok';
      const check = ruleSet.rules.get(name);
      if (check === undefined) return false;
      state.set(name, 'visiting');
      let found = false;
      for (const ref of referencedRules(check)) {
        const target = ruleSet.rules.has(ref) ? ref : this.defaultRule;
        if (visit(target)) found = true;
      }
      state.set(name, found ? 'cyclic' : 'ok');
      return found;
    };
    for (const [name, check] of ruleSet.rules) {
      if (referencedRules(check).some((ref) => ruleSet.get(ref) === undefined)) undefinedRefs.push(name);
      if (visit(name)) cyclic.push(name);
    }
    if (undefinedRefs.length > 0) {
      this.logger.warn(`Policies ${undefinedRefs.join(', ')} reference a rule that is not defined.`);
    }
    if (cyclic.length > 0) {
      this.logger.error(`Policies ${cyclic.join(', ')} are part of a cyclical reference; they deny.`);
    }
  }
}

function isFile(p: string): boolean {
  return fs.statSync(p, { throwIfNoEntry: false })?.isFile() ?? false;
}

/** Reads a YAML or JSON policy file: a map of rule name to check string (empty file = no rules). */
function readPolicyFile(file: string): Record<string, unknown> {
  let data: unknown;
  try {
    // YAML 1.2 is a superset of JSON; duplicate keys keep the last, as PyYAML does.
    data = parseYaml(fs.readFileSync(file, 'utf8'), { uniqueKeys: false, logLevel: 'error' });
  } catch (err) {
    throw new Error(`Policy file ${file} could not be parsed: ${(err as Error).message}`);
  }
  if (data === null || data === undefined) return {};
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new Error(`Policy file ${file} must be a map of rule names to check strings`);
  }
  return data as Record<string, unknown>;
}
