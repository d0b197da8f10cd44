//! What `#[derive(WriteFields)]` reads of each input field for its schema: whether it is
//! required, and whether `null` is accepted, from its type and its serde attributes.

use proc_macro2::TokenStream as Tokens;
use quote::quote;
use syn::Type;

/// How an input field is typed, for its schema: `T` is required; `Option<T>` may be left out,
/// and `null` means the same unless the field is read with `present` (which refuses it);
/// `Option<Option<T>>` may be left out or `null` (clear the column).
pub(crate) fn input_field(field: &syn::Field, column: &str) -> syn::Result<Tokens> {
    let mut ty = &field.ty;
    let mut options = 0;
    while let Some(inner) = option_inner(ty) {
        ty = inner;
        options += 1;
    }
    let refuses_null = reads_with(field, "present")?;
    let required = options == 0;
    let nullable = options == 2 || (options == 1 && !refuses_null);
    Ok(quote! {
        ::lib_model::schema::InputField {
            name: #column,
            kind: <#ty as ::lib_model::base::FieldType>::KIND,
            required: #required,
            nullable: #nullable,
        }
    })
}

/// `T` of a type written `Option<T>`.
fn option_inner(ty: &Type) -> Option<&Type> {
    let Type::Path(path) = ty else { return None };
    let last = path.path.segments.last()?;
    if last.ident != "Option" {
        return None;
    }
    match &last.arguments {
        syn::PathArguments::AngleBracketed(args) => match args.args.first()? {
            syn::GenericArgument::Type(inner) => Some(inner),
            _ => None,
        },
        _ => None,
    }
}

/// The field has `#[serde(deserialize_with = "<function>")]`.
fn reads_with(field: &syn::Field, function: &str) -> syn::Result<bool> {
    let mut found = false;
    for attr in field.attrs.iter().filter(|attr| attr.path().is_ident("serde")) {
        attr.parse_nested_meta(|meta| {
            if meta.input.peek(syn::Token![=]) {
                let value: syn::Expr = meta.value()?.parse()?;
                if meta.path.is_ident("deserialize_with")
                    && matches!(&value, syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) if s.value() == function)
                {
                    found = true;
                }
            }
            Ok(())
        })?;
    }
    Ok(found)
}
