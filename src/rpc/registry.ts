import { Ajv, type ValidateFunction } from "ajv";
import { hasScope, type Scope } from "../auth/scopes.js";
import { ErrorCode, PoolError } from "../errors.js";

export type JsonSchema = Record<string, unknown>;

export interface MethodDefinition<Params, Result, Context> {
  description: string;
  /** The scope a caller needs (admin has them all). */
  scope: Scope;
  params: JsonSchema;
  result: JsonSchema;
  handler: (params: Params, context: Context) => Result | Promise<Result>;
}

export interface SignalDefinition {
  description: string;
  params: JsonSchema;
}

interface RegisteredMethod<Context> {
  definition: MethodDefinition<unknown, unknown, Context>;
  validate: ValidateFunction;
}

/** What the registry needs to know of a request's context: who calls. */
export interface CallerContext {
  caller: { name: string; scopes: ReadonlySet<Scope> };
}

/**
 * Told of each call once it is answered: the method (null when no method has that name), who
 * called it and how, and the error's code (-32603 when it was no PoolError) or null.
 */
export type CallObserver<Context> = (
  method: string | null,
  context: Context,
  errorCode: number | null,
) => void;

export interface Introspection {
  methods: {
    name: string;
    description: string;
    scope: Scope;
    params: JsonSchema;
    result: JsonSchema;
  }[];
  signals: { name: string; description: string; params: JsonSchema }[];
}

/**
 * Every method of the control protocol with the JSON Schema of its params and result; the one
 * place transports call into. Params are validated before a handler runs.
 */
export class MethodRegistry<Context extends CallerContext> {
  private readonly methods = new Map<string, RegisteredMethod<Context>>();
  private readonly signals = new Map<string, SignalDefinition>();
  private readonly ajv = new Ajv({ allErrors: true, strict: false, useDefaults: true });
  private readonly observers: CallObserver<Context>[] = [];

  method<Params, Result>(
    name: string,
    definition: MethodDefinition<Params, Result, Context>,
  ): this {
    this.methods.set(name, {
      definition: definition as MethodDefinition<unknown, unknown, Context>,
      validate: this.ajv.compile(definition.params),
    });
    return this;
  }

  signal(name: string, definition: SignalDefinition): this {
    this.signals.set(name, definition);
    return this;
  }

  has(name: string): boolean {
    return this.methods.has(name);
  }

  methodNames(): string[] {
    return [...this.methods.keys()];
  }

  signalNames(): string[] {
    return [...this.signals.keys()];
  }

  observe(observer: CallObserver<Context>): void {
    this.observers.push(observer);
  }

  async call(name: string, params: unknown, context: Context): Promise<unknown> {
    const known = this.methods.has(name) ? name : null;
    try {
      const result = await this.dispatch(name, params, context);
      for (const observer of this.observers) observer(known, context, null);
      return result;
    } catch (err) {
      const code = err instanceof PoolError ? err.code : -32603;
      for (const observer of this.observers) observer(known, context, code);
      throw err;
    }
  }

  private async dispatch(name: string, params: unknown, context: Context): Promise<unknown> {
    const method = this.methods.get(name);
    if (!method) {
      throw new PoolError(
        ErrorCode.MethodNotFound,
        `no method "${name}"; list the methods with "claude-poolctl introspect"`,
      );
    }
    const { scope } = method.definition;
    if (!hasScope(context.caller.scopes, scope)) {
      throw new PoolError(
        ErrorCode.Unauthorized,
        `${name} needs a token with the "${scope}" scope; make one with "claude-poolctl token create --scope ${scope}"`,
      );
    }
    const value = params ?? {};
    if (!method.validate(value)) {
      const problems = (method.validate.errors ?? []).map(
        (e) => `${e.instancePath || "params"} ${e.message}`,
      );
      throw new PoolError(
        ErrorCode.InvalidParams,
        `invalid params for ${name}: ${problems.join("; ")}; see "claude-poolctl introspect"`,
      );
    }
    return method.definition.handler(value, context);
  }

  introspect(): Introspection {
    return {
      methods: [...this.methods].map(([name, { definition }]) => ({
        name,
        description: definition.description,
        scope: definition.scope,
        params: definition.params,
        result: definition.result,
      })),
      signals: [...this.signals].map(([name, definition]) => ({ name, ...definition })),
    };
  }
}
