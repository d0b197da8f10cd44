//! [`crud_methods!`]: the six methods of an entity, over its Bmc's generated CRUD.

/// Registers `create_<one>`, `get_<one>`, `list_<many>`, `count_<many>`, `update_<one>` and
/// `delete_<one>` on `router` for the Bmc (which needs `generate_crud_fns!`):
///
/// ```ignore
/// crud_methods!(router, "task", "tasks", TaskBmc);
/// ```
#[macro_export]
macro_rules! crud_methods {
    ($router:expr, $one:literal, $many:literal, $bmc:ty) => {{
        use lib_model::base::server_owned;
        use lib_model::{Ctx, ModelManager};
        use $crate::params::{ParamsCount, ParamsForCreate, ParamsForDelete, ParamsForUpdate, ParamsIded, ParamsList};
        use $crate::{Error, Result, params};

        $router
            .add(concat!("create_", $one), |ctx: Ctx, mm: ModelManager, p: ParamsForCreate| async move {
                <$bmc>::create(&ctx, &mm, params::data(&p.data, server_owned::<$bmc>)?)
                    .await
                    .map_err(Error::within("data"))
            })
            .add(concat!("get_", $one), |ctx: Ctx, mm: ModelManager, p: ParamsIded| async move {
                Result::Ok(<$bmc>::get(&ctx, &mm, p.id).await?)
            })
            .add_list(concat!("list_", $many), |ctx: Ctx, mm: ModelManager, p: ParamsList| async move {
                let filters = <$bmc>::parse_filters(p.filters.as_deref()).map_err(Error::within("filters"))?;
                let options =
                    <$bmc>::parse_list_options(p.list_options.as_deref()).map_err(Error::within("list_options"))?;
                // The client mistake a list itself can find is a cursor that does not open.
                <$bmc>::list(&ctx, &mm, filters, &options).await.map_err(Error::within("list_options"))
            })
            .add(concat!("count_", $many), |ctx: Ctx, mm: ModelManager, p: ParamsCount| async move {
                let filters = <$bmc>::parse_filters(p.filters.as_deref()).map_err(Error::within("filters"))?;
                Result::Ok(<$bmc>::count(&ctx, &mm, filters).await?)
            })
            .add(concat!("update_", $one), |ctx: Ctx, mm: ModelManager, p: ParamsForUpdate| async move {
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
                |p: ParamsForCreate| params::data(&p.data, server_owned::<$bmc>),
                |ctx: Ctx, mm: ModelManager, data| async move { Result::Ok(<$bmc>::create_many(&ctx, &mm, data).await?) },
            );
    }};
}
