//! Tool schemas, kept small: every byte of a tool list is paid for in every agent's
//! context. Inputs keep their descriptions (they guide the model); outputs keep only
//! their shape. The full, documented schemas are generated into `schemas/`.

use std::sync::Arc;

use rmcp::handler::server::common::{schema_for_input, schema_for_output};
use rmcp::model::JsonObject;
use schemars::JsonSchema;
use serde_json::{Map, Value};

/// The `inputSchema` of `T`, self-contained (every `$ref` inlined: a model sees the whole
/// shape of every parameter), with optional parameters as plain types (omit them rather
/// than send null), and without the `$schema` and integer `format` noise.
pub(crate) fn input<T: JsonSchema + 'static>() -> Arc<JsonObject> {
    let Ok(schema) = schema_for_input::<T>() else {
        // Every parameter type is a struct, so this cannot happen; fall back to the raw schema.
        return rmcp::handler::server::common::schema_for_type::<T>();
    };
    let mut root = schema.as_ref().clone();
    root.remove("$schema");
    let defs = root
        .remove("$defs")
        .and_then(|d| d.as_object().cloned())
        .unwrap_or_default();
    let mut value = Value::Object(root);
    inline_refs(&mut value, &defs, 0);
    optional_not_null(&mut value);
    compact_input(&mut value);
    match value {
        Value::Object(map) => Arc::new(map),
        _ => schema,
    }
}

/// How deep [`inline_refs`] follows references (parameter types are not recursive).
const MAX_INLINE_DEPTH: usize = 8;

/// Replaces every `{"$ref": "#/$defs/X"}` in `schema` by the definition of `X` (keeping
/// the referring node's own description).
fn inline_refs(schema: &mut Value, defs: &Map<String, Value>, depth: usize) {
    let Value::Object(map) = schema else { return };
    if depth < MAX_INLINE_DEPTH
        && let Some(Value::String(reference)) = map.get("$ref").cloned()
        && let Some(Value::Object(def)) = defs.get(reference.rsplit('/').next().unwrap_or_default())
    {
        map.remove("$ref");
        for (k, v) in def {
            if k != "title" && k != "description" && !map.contains_key(k) {
                map.insert(k.clone(), v.clone());
            }
        }
    }
    for child in children(map) {
        inline_refs(child, defs, depth + 1);
    }
}

/// What a model needs of a parameter schema and no more, at every depth: no
/// `format: int32`-style annotations, `minimum: 0` (a bad value is refused with the
/// parameter named) or `default` (descriptions say it), and a choice of documented
/// constants (`oneOf: [{const}, …]`, from an enum with doc comments) as a plain `enum`.
fn compact_input(schema: &mut Value) {
    let Value::Object(map) = schema else { return };
    if map
        .get("format")
        .and_then(Value::as_str)
        .is_some_and(|f| f.starts_with("uint") || f.starts_with("int"))
    {
        map.remove("format");
    }
    if map.get("minimum").and_then(Value::as_u64) == Some(0) {
        map.remove("minimum");
    }
    // Defaults are in the descriptions ("Default normal."), or are "absent": a `default`
    // key (from a core request type's `#[serde(default)]`) would repeat them.
    map.remove("default");
    // Unknown parameters are refused with their name; saying so in every schema costs
    // context for nothing.
    if map.get("additionalProperties") == Some(&Value::Bool(false)) {
        map.remove("additionalProperties");
    }
    constants_as_enum(map);
    children(map).for_each(compact_input);
}

/// A choice of documented constants (`oneOf: [{const, description}, …]`, what schemars
/// writes for an enum whose variants have doc comments) as a plain `enum`.
fn constants_as_enum(map: &mut Map<String, Value>) {
    let constants: Option<Vec<Value>> = map
        .get("oneOf")
        .and_then(Value::as_array)
        .and_then(|options| options.iter().map(|o| o.get("const").cloned()).collect());
    if let Some(constants) = constants {
        map.remove("oneOf");
        map.insert("type".into(), Value::String("string".into()));
        map.insert("enum".into(), Value::Array(constants));
    }
}

/// [`constants_as_enum`] at every depth of an output schema.
fn compact_output(schema: &mut Value) {
    let Value::Object(map) = schema else { return };
    constants_as_enum(map);
    children(map).for_each(compact_output);
}

/// The `outputSchema` of `T`: what a result serialises to once its nulls are dropped
/// (`reply::drop_nulls`): nullable fields become optional ones of a single type, which
/// every client parses without portability warnings. Without titles, descriptions and
/// `$schema` (field names speak for themselves).
pub(crate) fn output<T: JsonSchema + 'static>() -> Arc<JsonObject> {
    let mut value = Value::Object(schema_for_output::<T>().as_ref().clone());
    strip_docs(&mut value);
    compact_output(&mut value);
    optional_not_null(&mut value);
    // Any result may end with a notice of new mail (see `SwitchboardServer::with_news`).
    if let Some(Value::Object(props)) = value.get_mut("properties") {
        props.insert("mail".into(), serde_json::json!({"type": "string"}));
    }
    match value {
        Value::Object(mut map) => {
            map.remove("$schema");
            Arc::new(map)
        }
        _ => schema_for_output::<T>(),
    }
}

/// Every sub-schema of `schema` (values of schema positions), for walkers.
fn children(map: &mut Map<String, Value>) -> impl Iterator<Item = &mut Value> {
    map.iter_mut().flat_map(|(key, value)| {
        let nested: Vec<&mut Value> = match (key.as_str(), value) {
            ("properties" | "$defs", Value::Object(m)) => m.values_mut().collect(),
            ("anyOf" | "oneOf" | "allOf" | "prefixItems", Value::Array(a)) => {
                a.iter_mut().collect()
            }
            ("items" | "additionalProperties" | "not", v) => vec![v],
            _ => Vec::new(),
        };
        nested
    })
}

/// Whether `schema` admits null: `type: [.., "null"]` or an `anyOf` branch `{type: null}`.
fn is_nullable(schema: &Value) -> bool {
    let null = Value::String("null".into());
    match schema {
        Value::Object(m) => {
            m.get("type")
                .and_then(Value::as_array)
                .is_some_and(|t| t.contains(&null))
                || m.get("anyOf")
                    .and_then(Value::as_array)
                    .is_some_and(|branches| branches.iter().any(|b| b.get("type") == Some(&null)))
        }
        _ => false,
    }
}

/// Makes a nullable schema its non-null part: `type: [T, "null"]` → `type: T`;
/// `anyOf: [X, {type: null}]` → X.
fn without_null(schema: &mut Value) {
    let Value::Object(map) = schema else { return };
    if let Some(Value::Array(types)) = map.get_mut("type") {
        types.retain(|t| t.as_str() != Some("null"));
        if types.len() == 1 {
            let only = types.remove(0);
            map.insert("type".into(), only);
        }
    }
    if let Some(Value::Array(branches)) = map.get_mut("anyOf") {
        branches.retain(|b| b.get("type").and_then(Value::as_str) != Some("null"));
        if branches.len() == 1
            && let Value::Object(only) = branches.remove(0)
        {
            map.remove("anyOf");
            map.extend(only);
        }
    }
}

/// Turns every nullable property into an optional one of a single type (dropping it from
/// `required`), at every depth.
fn optional_not_null(schema: &mut Value) {
    let Value::Object(map) = schema else { return };
    let mut optional = Vec::new();
    if let Some(Value::Object(props)) = map.get_mut("properties") {
        for (name, prop) in props.iter_mut() {
            if is_nullable(prop) {
                without_null(prop);
                optional.push(Value::String(name.clone()));
            }
        }
    }
    if let Some(Value::Array(required)) = map.get_mut("required") {
        required.retain(|r| !optional.contains(r));
        if required.is_empty() {
            map.remove("required");
        }
    }
    for child in children(map) {
        optional_not_null(child);
    }
}

/// Removes `title` and `description` from a schema and every sub-schema, walking only
/// schema positions (so a property *named* `description` survives).
fn strip_docs(schema: &mut Value) {
    let Value::Object(map) = schema else {
        return;
    };
    map.remove("title");
    map.remove("description");
    if map
        .get("format")
        .and_then(Value::as_str)
        .is_some_and(|f| f.starts_with("uint") || f.starts_with("int"))
    {
        map.remove("format");
    }
    children(map).for_each(strip_docs);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, JsonSchema)]
    #[allow(dead_code)]
    enum Colour {
        Red,
        Blue,
    }

    /// Doc of the struct.
    #[derive(serde::Deserialize, JsonSchema)]
    #[allow(dead_code)]
    struct Args {
        /// Needed.
        name: String,
        /// Maybe.
        colour: Option<Colour>,
        limit: Option<u32>,
    }

    #[test]
    fn input_schemas_are_compact_and_keep_parameter_docs() {
        let schema = Value::Object(input::<Args>().as_ref().clone());
        assert_eq!(
            schema,
            serde_json::json!({
                "type": "object",
                "properties": {
                    "name": {"type": "string", "description": "Needed."},
                    "colour": {"type": "string", "enum": ["Red", "Blue"], "description": "Maybe."},
                    "limit": {"type": "integer"}
                },
                "required": ["name"]
            })
        );
    }

    #[derive(serde::Serialize, JsonSchema)]
    #[allow(dead_code)]
    struct Out {
        /// A field named description must survive.
        description: Option<String>,
        count: u32,
    }

    #[test]
    fn output_schemas_keep_shape_but_not_docs() {
        let schema = Value::Object(output::<Out>().as_ref().clone());
        assert_eq!(
            schema,
            serde_json::json!({
                "type": "object",
                "properties": {
                    "description": {"type": "string"},
                    "count": {"type": "integer", "minimum": 0},
                    "mail": {"type": "string"}
                },
                "required": ["count"]
            })
        );
    }
}
