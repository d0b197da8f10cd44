//! [`crud_methods!`]: the six methods of an entity, over its Bmc's generated CRUD, with what the
//! OpenRPC document says of them ([`describe_crud`]).

use crate::{Error, RpcRouter};
use lib_core::Ctx;
use lib_model::base::{DbBmc, ForCreate, ForUpdate, WriteFields};
use lib_model::schema::{example_input, example_row};
use lib_model::sea_query::Value as SqlValue;
use serde_json::json;

/// Registers `create_<one>`, `get_<one>`, `list_<many>`, `count_<many>`, `update_<one>` and
/// `delete_<one>` on `router` for the Bmc (which needs `generate_crud_fns!`):
///
/// ```ignore
/// crud_methods!(router, "task", "tasks", TaskBmc);
/// ```
#[macro_export]
macro_rules! crud_methods {
    ($router:expr, $one:literal, $many:literal, $bmc:ty) => {{
        use lib_model::base::{DbBmc, server_owned};
        use lib_model::{Ctx, ModelManager};
        use $crate::params::{ParamsCount, ParamsForCreate, ParamsForDelete, ParamsForUpdate, ParamsIded, ParamsList};
        use $crate::{Error, Result, params};
        type E = <$bmc as DbBmc>::Entity;

        $router
            .add(concat!("create_", $one), |ctx: Ctx, mm: ModelManager, p: ParamsForCreate<E>| async move {
                <$bmc>::create(&ctx, &mm, params::data(&p.data, server_owned::<$bmc>)?)
                    .await
                    .map_err(Error::within("data"))
            })
            .add(concat!("get_", $one), |ctx: Ctx, mm: ModelManager, p: ParamsIded| async move {
                Result::Ok(<$bmc>::get(&ctx, &mm, p.id).await?)
            })
            .add_list(concat!("list_", $many), |ctx: Ctx, mm: ModelManager, p: ParamsList<E>| async move {
                let filters = <$bmc>::parse_filters(p.filters.as_deref()).map_err(Error::within("filters"))?;
                let options =
                    <$bmc>::parse_list_options(p.list_options.as_deref()).map_err(Error::within("list_options"))?;
                // The client mistake a list itself can find is a cursor that does not open.
                <$bmc>::list(&ctx, &mm, filters, &options).await.map_err(Error::within("list_options"))
            })
            .add(concat!("count_", $many), |ctx: Ctx, mm: ModelManager, p: ParamsCount<E>| async move {
                let filters = <$bmc>::parse_filters(p.filters.as_deref()).map_err(Error::within("filters"))?;
                Result::Ok(<$bmc>::count(&ctx, &mm, filters).await?)
            })
            .add(concat!("update_", $one), |ctx: Ctx, mm: ModelManager, p: ParamsForUpdate<E>| async move {
                let data = params::data(&p.data, server_owned::<$bmc>)?;
                <$bmc>::update_if(&ctx, &mm, p.id, data, p.if_mtime).await.map_err(Error::within("data"))
            })
            .add(concat!("delete_", $one), |ctx: Ctx, mm: ModelManager, p: ParamsForDelete| async move {
                Result::Ok(<$bmc>::delete_if(&ctx, &mm, p.id, p.if_mtime).await?)
            })
            .add_get_many(concat!("get_", $one), $one, |ctx: Ctx, mm: ModelManager, ids: Vec<i64>| async move {
                Result::Ok(<$bmc>::get_many(&ctx, &mm, ids).await?)
            })
            .allow_in_transactions(&[
                concat!("create_", $one),
                concat!("get_", $one),
                concat!("list_", $many),
                concat!("count_", $many),
                concat!("update_", $one),
                concat!("delete_", $one),
            ])
            .add_create_many(
                concat!("create_", $one),
                |p: ParamsForCreate<E>| params::data(&p.data, server_owned::<$bmc>),
                |ctx: Ctx, mm: ModelManager, data| async move { Result::Ok(<$bmc>::create_many(&ctx, &mm, data).await?) },
            );
        $crate::methods::crud::describe_crud::<$bmc>(&mut $router, $one, $many);
    }};
}

/// What the document says of `B`'s six methods: the errors each can answer besides every
/// method's, and an example of each made from the entity's declaration.
pub fn describe_crud<B: DbBmc>(router: &mut RpcRouter, one: &str, many: &str) {
    use lib_model::Error as M;
    let not_found = || Error::Model(M::EntityNotFound { entity: B::ENTITY, id: 0 });
    let forbidden = || Error::Model(M::Forbidden { entity: B::ENTITY, id: 0 });
    let stale = || Error::Model(M::Stale { entity: B::ENTITY, id: 0 });
    // A row that belongs to a parent is created only where the caller may write: which parent,
    // if any, the entity's write scope of a create's fields says.
    let fields: Vec<_> = ForCreate::<B>::FIELDS.iter().map(|field| (*field, SqlValue::BigInt(Some(0)))).collect();
    let parent = B::write_scope(&Ctx::for_user(0), &fields).parent.map(|guard| guard.entity);
    let parent_refusals = || {
        parent.into_iter().flat_map(|entity| {
            [Error::Model(M::EntityNotFound { entity, id: 0 }), Error::Model(M::Forbidden { entity, id: 0 })]
        })
    };

    let row = example_row(B::COLUMNS);
    let create = example_input(ForCreate::<B>::INPUTS);
    let update = example_input(ForUpdate::<B>::INPUTS);
    let filters = json!({"id": {"$gte": 1}});
    let (create_name, get, list) = (format!("create_{one}"), format!("get_{one}"), format!("list_{many}"));
    let (count, update_name, delete) = (format!("count_{many}"), format!("update_{one}"), format!("delete_{one}"));
    router
        .errors(&create_name, parent_refusals())
        .example(&create_name, json!({"data": create}), json!({"data": row}))
        .errors(&get, [not_found()])
        .example(&get, json!({"id": 1}), json!({"data": row}))
        .example(
            &list,
            json!({"filters": filters, "list_options": {"order_bys": "!id", "limit": 10}}),
            json!({"data": [row], "next_cursor": null}),
        )
        .example(&count, json!({"filters": filters}), json!({"data": 1}))
        .errors(&update_name, [not_found(), forbidden(), stale()])
        .example(&update_name, json!({"id": 1, "data": update}), json!({"data": row}))
        .errors(&delete, [not_found(), forbidden(), stale()])
        .example(&delete, json!({"id": 1}), json!({"data": row}));
}
