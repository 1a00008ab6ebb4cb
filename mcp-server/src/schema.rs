//! Tool schemas, kept small: every byte of a tool list is paid for in every agent's
//! context. Inputs keep their descriptions (they guide the model); outputs keep only
//! their shape. The full, documented schemas are generated into `schemas/`.

use std::sync::Arc;

use rmcp::handler::server::common::{schema_for_input, schema_for_output};
use rmcp::model::JsonObject;
use schemars::JsonSchema;
use serde_json::{Map, Value};

/// The `inputSchema` of `T`: optional parameters are plain types (omit them rather than
/// send null), enums are inlined, and the `$schema` and integer `format` noise is gone.
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
    let required: Vec<Value> = root
        .get("required")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if let Some(Value::Object(props)) = root.get_mut("properties") {
        for (name, prop) in props.iter_mut() {
            let optional = !required.contains(&Value::String(name.clone()));
            simplify_property(prop, &defs, optional);
        }
    }
    Arc::new(root)
}

fn simplify_property(prop: &mut Value, defs: &Map<String, Value>, optional: bool) {
    let Value::Object(map) = prop else { return };
    // `anyOf: [{$ref}, {type: null}]` (an optional enum) → the referenced schema itself.
    if let Some(Value::Array(options)) = map.get("anyOf") {
        let referenced = options.iter().find_map(|o| {
            let name = o.get("$ref")?.as_str()?.rsplit('/').next()?;
            defs.get(name).cloned()
        });
        if let Some(Value::Object(def)) = referenced {
            map.remove("anyOf");
            for (k, v) in def {
                if k != "description" && k != "title" {
                    map.insert(k, v);
                }
            }
        }
    }
    if let Some(Value::String(name)) = map.get("$ref").cloned()
        && let Some(Value::Object(def)) = defs.get(name.rsplit('/').next().unwrap_or_default())
    {
        map.remove("$ref");
        for (k, v) in def {
            if k != "description" && k != "title" {
                map.insert(k.clone(), v.clone());
            }
        }
    }
    if optional && let Some(Value::Array(types)) = map.get("type") {
        let non_null: Vec<Value> = types
            .iter()
            .filter(|t| t.as_str() != Some("null"))
            .cloned()
            .collect();
        if non_null.len() == 1 {
            map.insert("type".into(), non_null[0].clone());
        }
    }
    if map
        .get("format")
        .and_then(Value::as_str)
        .is_some_and(|f| f.starts_with("uint") || f.starts_with("int"))
    {
        map.remove("format");
    }
}

/// The `outputSchema` of `T`: what it serialises to, without titles, descriptions and
/// `$schema` (field names speak for themselves).
pub(crate) fn output<T: JsonSchema + 'static>() -> Arc<JsonObject> {
    let mut value = Value::Object(schema_for_output::<T>().as_ref().clone());
    strip_docs(&mut value);
    match value {
        Value::Object(mut map) => {
            map.remove("$schema");
            Arc::new(map)
        }
        _ => schema_for_output::<T>(),
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
    for key in ["properties", "$defs"] {
        if let Some(Value::Object(children)) = map.get_mut(key) {
            children.values_mut().for_each(strip_docs);
        }
    }
    for key in ["anyOf", "oneOf", "allOf", "prefixItems"] {
        if let Some(Value::Array(children)) = map.get_mut(key) {
            children.iter_mut().for_each(strip_docs);
        }
    }
    for key in ["items", "additionalProperties", "not"] {
        if let Some(child) = map.get_mut(key) {
            strip_docs(child);
        }
    }
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
                    "limit": {"type": "integer", "minimum": 0}
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
                    "description": {"type": ["string", "null"]},
                    "count": {"type": "integer", "minimum": 0}
                },
                "required": ["description", "count"]
            })
        );
    }
}
