// react-jsonschema-form's validator on @cfworker/json-schema, which interprets schemas
// instead of compiling them to code: the dashboard's Content-Security-Policy has no
// 'unsafe-eval', which Ajv (the usual validator) needs.
import { Validator, type OutputUnit, type Schema } from "@cfworker/json-schema";
import {
  createErrorHandler,
  toErrorSchema,
  unwrapErrorHandler,
  validationDataMerge,
  type CustomValidator,
  type ErrorTransformer,
  type RJSFSchema,
  type RJSFValidationError,
  type UiSchema,
  type ValidationData,
  type ValidatorType,
} from "@rjsf/utils";

// Keywords that only gather their sub-schemas' errors: the sub-schema's own error says it.
const WRAPPERS = new Set(["$ref", "properties", "items", "prefixItems", "allOf", "anyOf", "oneOf", "$defs", "if", "then", "else", "dependentSchemas"]);

const compiled = new WeakMap<object, Validator>();

function validatorFor(schema: RJSFSchema): Validator {
  let found = compiled.get(schema);
  if (!found) {
    found = new Validator(schema as Schema, "2020-12", false);
    compiled.set(schema, found);
  }
  return found;
}

function toRjsf(unit: OutputUnit): RJSFValidationError {
  const path = unit.instanceLocation.replace(/^#/, "").split("/").filter(Boolean).map(decodeURIComponent);
  if (unit.keyword === "required") {
    const missing = /"([^"]+)"/.exec(unit.error)?.[1];
    if (missing) path.push(missing);
  }
  const property = path.length ? `.${path.join(".")}` : ".";
  const message = unit.keyword === "required" ? "is required" : unit.error.replace(/^Instance /, "");
  return { name: unit.keyword, property, message, stack: `${property} ${message}`, schemaPath: unit.keywordLocation };
}

export class InterpretingValidator<T = unknown> implements ValidatorType<T, RJSFSchema> {
  rawValidation<Result = OutputUnit>(schema: RJSFSchema, formData?: T): { errors?: Result[]; validationError?: Error } {
    try {
      const result = validatorFor(schema).validate(formData);
      return { errors: result.errors.filter((u) => !WRAPPERS.has(u.keyword)) as Result[] };
    } catch (error) {
      return { validationError: error instanceof Error ? error : new Error(String(error)) };
    }
  }

  validateFormData(
    formData: T | undefined,
    schema: RJSFSchema,
    customValidate?: CustomValidator<T, RJSFSchema>,
    transformErrors?: ErrorTransformer<T, RJSFSchema>,
    uiSchema?: UiSchema<T, RJSFSchema>,
  ): ValidationData<T> {
    const raw = this.rawValidation<OutputUnit>(schema, formData);
    let errors = (raw.errors ?? []).map(toRjsf);
    if (raw.validationError) {
      errors.push({ name: "schema", property: ".", message: raw.validationError.message, stack: raw.validationError.message });
    }
    if (transformErrors) errors = transformErrors(errors, uiSchema);
    const data: ValidationData<T> = { errors, errorSchema: toErrorSchema<T>(errors) };
    if (!customValidate) return data;
    const handler = customValidate(formData, createErrorHandler<T>(formData as T), uiSchema);
    return validationDataMerge<T>(data, unwrapErrorHandler<T>(handler));
  }

  isValid(schema: RJSFSchema, formData: T | undefined, rootSchema: RJSFSchema): boolean {
    // A sub-schema (an anyOf branch) checked with the root's definitions, as Ajv does.
    const withDefs = { ...schema, $defs: rootSchema.$defs ?? {}, definitions: rootSchema.definitions ?? {} };
    try {
      return validatorFor(withDefs as RJSFSchema).validate(formData).valid;
    } catch {
      return false;
    }
  }
}
