//! lib-model-macros: the derives that let an entity be declared once, as its row struct and its
//! create and update inputs. Used by lib-model's entities; knows nothing but their shape.
//!
//! - `#[derive(Entity)]` on a row struct: its column list (names, kinds and nullability, from
//!   the field types), how a row is read from Postgres and written as JSON, its `id`, and its
//!   create and update inputs, named by `#[entity(create = TaskForCreate, update = TaskForUpdate)]`.
//! - `#[derive(ColumnGroup)]`: the same for a group of columns that entities share (the audit
//!   columns), spliced into an entity by a field marked `#[entity(flatten)]`.
//! - `#[derive(WriteFields)]` on a `ForCreate` / `ForUpdate` struct: the fields it writes, by
//!   name, and the column/value pairs of the ones a client gave.
//!
//! The generated code names `::lib_model`, so the derives work in lib-model itself (which calls
//! itself that) and in any crate that declares entities over it.

use proc_macro::TokenStream;
use proc_macro2::TokenStream as Tokens;
use quote::quote;
use syn::{Data, DeriveInput, Fields, Ident, Type, parse_macro_input};

mod inputs;

/// A row struct: its columns, `FromRow`, `Serialize`, `Identified` (it must have `id: i64`) and
/// `Entity` (its inputs, from `#[entity(create = ..., update = ...)]` on the struct).
#[proc_macro_derive(Entity, attributes(entity))]
pub fn derive_entity(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand_columns(&input, true).unwrap_or_else(syn::Error::into_compile_error).into()
}

/// Columns shared by several entities, spliced in with `#[entity(flatten)]`.
#[proc_macro_derive(ColumnGroup, attributes(entity))]
pub fn derive_column_group(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand_columns(&input, false).unwrap_or_else(syn::Error::into_compile_error).into()
}

/// A create or update input: `WriteFields`, one column per field, named as the field.
#[proc_macro_derive(WriteFields)]
pub fn derive_write_fields(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand_write_fields(&input).unwrap_or_else(syn::Error::into_compile_error).into()
}

/// One field of a row struct: a column of its own, or a group of columns spliced in.
struct RowField<'a> {
    ident: &'a Ident,
    ty: &'a Type,
    flatten: bool,
    /// `#[entity(computed)]`: not a column of the table but an expression the entity's `DbBmc`
    /// computes for the caller (a project's `role`); read-only, filterable and orderable.
    computed: bool,
}

impl RowField<'_> {
    fn column_name(&self) -> String {
        self.ident.to_string().trim_start_matches("r#").to_string()
    }
}

fn named_fields(input: &DeriveInput) -> syn::Result<&syn::FieldsNamed> {
    match &input.data {
        Data::Struct(data) => match &data.fields {
            Fields::Named(fields) => Ok(fields),
            _ => Err(syn::Error::new_spanned(&input.ident, "needs a struct with named fields")),
        },
        _ => Err(syn::Error::new_spanned(&input.ident, "needs a struct with named fields")),
    }
}

fn row_fields(input: &DeriveInput) -> syn::Result<Vec<RowField<'_>>> {
    named_fields(input)?
        .named
        .iter()
        .map(|field| {
            let (mut flatten, mut computed) = (false, false);
            for attr in field.attrs.iter().filter(|attr| attr.path().is_ident("entity")) {
                attr.parse_nested_meta(|meta| {
                    if meta.path.is_ident("flatten") {
                        flatten = true;
                        Ok(())
                    } else if meta.path.is_ident("computed") {
                        computed = true;
                        Ok(())
                    } else {
                        Err(meta.error("expected `flatten` or `computed`"))
                    }
                })?;
            }
            let ident = field.ident.as_ref().expect("named fields have names");
            Ok(RowField { ident, ty: &field.ty, flatten, computed })
        })
        .collect()
}

/// The struct-level `#[entity(create = ..., update = ...)]` of an entity: its input types.
fn entity_inputs(input: &DeriveInput) -> syn::Result<(syn::Path, syn::Path)> {
    let (mut create, mut update) = (None, None);
    for attr in input.attrs.iter().filter(|attr| attr.path().is_ident("entity")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("create") {
                create = Some(meta.value()?.parse()?);
            } else if meta.path.is_ident("update") {
                update = Some(meta.value()?.parse()?);
            } else {
                return Err(meta.error("expected `create = Type` or `update = Type`"));
            }
            Ok(())
        })?;
    }
    let missing = || syn::Error::new_spanned(&input.ident, "needs #[entity(create = ..., update = ...)]");
    Ok((create.ok_or_else(missing)?, update.ok_or_else(missing)?))
}

fn expand_columns(input: &DeriveInput, is_entity: bool) -> syn::Result<Tokens> {
    let name = &input.ident;
    let name_text = name.to_string();
    let fields = row_fields(input)?;
    if is_entity && !fields.iter().any(|f| f.ident == "id" && !f.flatten) {
        return Err(syn::Error::new_spanned(name, "an entity needs an `id: i64` field"));
    }
    let inputs = if is_entity { Some(entity_inputs(input)?) } else { None };

    // The column list: each own field's column, each group's columns in its place.
    let own_count = fields.iter().filter(|f| !f.flatten).count();
    let group_lens = fields.iter().filter(|f| f.flatten).map(|f| {
        let ty = f.ty;
        quote! { + <#ty as ::lib_model::base::Columns>::COLUMNS.len() }
    });
    let parts = fields.iter().map(|f| {
        let ty = f.ty;
        if f.flatten {
            quote! { <#ty as ::lib_model::base::Columns>::COLUMNS }
        } else {
            let column = f.column_name();
            let computed = f.computed.then(|| quote! { .computed() });
            quote! { &[::lib_model::filter::Column::of::<#ty>(#column) #computed] }
        }
    });

    let reads = fields.iter().map(|f| {
        let (ident, ty) = (f.ident, f.ty);
        if f.flatten {
            quote! { #ident: <#ty as ::lib_model::sqlx::FromRow<'r, ::lib_model::sqlx::postgres::PgRow>>::from_row(row)? }
        } else {
            let column = f.column_name();
            quote! { #ident: ::lib_model::sqlx::Row::try_get(row, #column)? }
        }
    });

    let writes = fields.iter().map(|f| {
        let ident = f.ident;
        if f.flatten {
            quote! { ::lib_model::base::Columns::serialize_fields(&self.#ident, out)?; }
        } else {
            let column = f.column_name();
            quote! { out.serialize_field(#column, &::lib_model::base::AsJson(&self.#ident))?; }
        }
    });

    let entity = inputs.map(|(create, update)| {
        quote! {
            impl ::lib_model::base::Identified for #name {
                fn id(&self) -> i64 {
                    self.id
                }
            }

            impl ::lib_model::base::Entity for #name {
                type ForCreate = #create;
                type ForUpdate = #update;
            }
        }
    });

    Ok(quote! {
        impl ::lib_model::base::Columns for #name {
            const COLUMNS: &'static [::lib_model::filter::Column] =
                &::lib_model::base::concat_columns::<{ #own_count #(#group_lens)* }>(&[#(#parts),*]);

            fn serialize_fields<S: ::lib_model::serde::ser::SerializeStruct>(
                &self,
                out: &mut S,
            ) -> ::core::result::Result<(), S::Error> {
                #(#writes)*
                Ok(())
            }
        }

        impl<'r> ::lib_model::sqlx::FromRow<'r, ::lib_model::sqlx::postgres::PgRow> for #name {
            fn from_row(row: &'r ::lib_model::sqlx::postgres::PgRow) -> ::lib_model::sqlx::Result<Self> {
                Ok(Self { #(#reads),* })
            }
        }

        impl ::lib_model::schemars::JsonSchema for #name {
            fn schema_name() -> ::std::borrow::Cow<'static, str> {
                #name_text.into()
            }

            fn json_schema(_: &mut ::lib_model::schemars::SchemaGenerator) -> ::lib_model::schemars::Schema {
                ::lib_model::schema::row(#name_text, <Self as ::lib_model::base::Columns>::COLUMNS)
            }
        }

        impl ::lib_model::serde::Serialize for #name {
            fn serialize<S: ::lib_model::serde::Serializer>(&self, serializer: S) -> ::core::result::Result<S::Ok, S::Error> {
                use ::lib_model::serde::ser::SerializeStruct as _;
                let mut out = serializer.serialize_struct(#name_text, <Self as ::lib_model::base::Columns>::COLUMNS.len())?;
                ::lib_model::base::Columns::serialize_fields(self, &mut out)?;
                out.end()
            }
        }

        #entity
    })
}

fn expand_write_fields(input: &DeriveInput) -> syn::Result<Tokens> {
    let name = &input.ident;
    let name_text = name.to_string();
    let named = named_fields(input)?;
    let fields: Vec<_> = named.named.iter().filter_map(|f| f.ident.as_ref()).collect();
    let columns: Vec<_> = fields.iter().map(|f| f.to_string().trim_start_matches("r#").to_string()).collect();
    let inputs = named
        .named
        .iter()
        .zip(&columns)
        .map(|(field, column)| inputs::input_field(field, column))
        .collect::<syn::Result<Vec<_>>>()?;
    Ok(quote! {
        impl ::lib_model::schemars::JsonSchema for #name {
            fn schema_name() -> ::std::borrow::Cow<'static, str> {
                #name_text.into()
            }

            fn json_schema(_: &mut ::lib_model::schemars::SchemaGenerator) -> ::lib_model::schemars::Schema {
                ::lib_model::schema::input(#name_text, <Self as ::lib_model::base::WriteFields>::INPUTS)
            }
        }

        impl ::lib_model::base::WriteFields for #name {
            const FIELDS: &'static [&'static str] = &[#(#columns),*];
            const INPUTS: &'static [::lib_model::schema::InputField] = &[#(#inputs),*];

            fn write_fields(self) -> ::std::vec::Vec<(&'static str, ::lib_model::sea_query::Value)> {
                let mut written = ::std::vec::Vec::with_capacity(Self::FIELDS.len());
                #(
                    if let Some(value) = ::lib_model::base::FieldValue::into_field_value(self.#fields) {
                        written.push((#columns, value));
                    }
                )*
                written
            }
        }
    })
}
