//! `setup`, `plan` and `render`: the spec, checked and shown with its warnings, then the
//! deploy engine (or just the template).

use crate::aws;
use crate::cli::{AwsArgs, RenderArgs, SpecArgs};
use crate::deploy::engine::{Deploy, Mode};
use crate::error::Result;
use crate::issuer::Partition;
use crate::spec::{ProviderChoice, Spec};
use crate::template::{self, ProviderPlan};
use crate::ui::Ui;

pub async fn deploy(aws: &AwsArgs, args: &SpecArgs, ui: &Ui, mode: Mode, no_wait: bool) -> Result<()> {
    let target = aws::locate(aws).await?;
    let spec = validated(args, target.partition(), ui)?;
    let account = aws::connect(aws, target).await?;
    let report = Deploy::new(&account, ui, &spec, mode, no_wait).run().await?;
    ui.result(&report, &report.text());
    Ok(())
}

/// The spec, with its warnings shown.
fn validated(args: &SpecArgs, partition: Partition, ui: &Ui) -> Result<Spec> {
    let spec = Spec::from_args(args, partition)?;
    for warning in &spec.warnings {
        ui.warn(warning);
    }
    Ok(spec)
}

pub fn render(args: &RenderArgs, ui: &Ui) -> Result<()> {
    let partition = args.region.as_deref().map(Partition::of_region).unwrap_or_default();
    let spec = validated(&args.spec, partition, ui)?;
    // Without looking at the account, the provider is created unless one is named.
    let provider = match &spec.provider {
        ProviderChoice::Given(arn) => ProviderPlan::Existing(arn.clone()),
        ProviderChoice::Discover => ProviderPlan::Create,
    };
    let template = template::render(&spec, &provider).expect("a spec naming a provider always has a role");
    println!("{}", template::to_json(&template));
    Ok(())
}
