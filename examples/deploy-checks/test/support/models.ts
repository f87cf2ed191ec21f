import { ScaledObject, TriggerAuthentication } from '@kubernetes-models/keda/keda.sh/v1alpha1'
import { PodMonitor, PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1'
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1'
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2'
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1'
import { ConfigMap, Namespace, Secret, Service } from 'kubernetes-models/v1'

interface Validatable {
  validate(): void
}

/**
 * The schema models by apiVersion/kind: the Kubernetes OpenAPI schemas (kubernetes-models) and the KEDA
 * and Prometheus Operator CRD schemas. A kind missing here fails the checks until it is added.
 * Chaos Mesh has no published models; support/chaos-mesh.ts checks its documents by hand.
 */
// biome-ignore lint/suspicious/noExplicitAny: the models take untyped manifests
const MODELS: Record<string, new (data: any) => Validatable> = {
  'v1/Namespace': Namespace,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'keda.sh/v1alpha1/ScaledObject': ScaledObject,
  'keda.sh/v1alpha1/TriggerAuthentication': TriggerAuthentication,
  'monitoring.coreos.com/v1/PodMonitor': PodMonitor,
  'monitoring.coreos.com/v1/PrometheusRule': PrometheusRule,
}

/** True when a schema model exists for the document's apiVersion and kind. */
// biome-ignore lint/suspicious/noExplicitAny: see MODELS
export function hasModel(obj: any): boolean {
  return `${obj?.apiVersion}/${obj?.kind}` in MODELS
}

/** Validates against the kind's schema; throws with the schema's message. */
// biome-ignore lint/suspicious/noExplicitAny: see MODELS
export function validateModel(obj: any): void {
  const Model = MODELS[`${obj?.apiVersion}/${obj?.kind}`]
  if (!Model) throw new Error(`no schema model for ${obj?.apiVersion} ${obj?.kind}`)
  new Model(obj).validate()
}
