// BPMN as another tool writes it: models built with bpmn-moddle's own API (no Reglament
// extension elements) and serialised with its toXML, for server/tests/bpmn_tools.rs.
//   node build-models.mjs OUT_DIR
// Writes:
//   supported.bpmn   — a pool with two lanes (a clerk's user tasks, a registry's service
//                      task), an exclusive gateway with conditions and a default, a parallel
//                      split and join, a non-interrupting PT2H boundary timer, start and ends;
//   unsupported.bpmn — the same with a sub-process, an intermediate message catch event, a
//                      data object with its reference and a text annotation added.
import { writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { BpmnModdle } from 'bpmn-moddle';

const out = process.argv[2] || 'models';
await mkdir(out, { recursive: true });

function model(moddle, extra) {
  const els = [];
  const flows = [];
  const add = (type, attrs) => { const e = moddle.create(type, attrs); els.push(e); return e; };
  const flow = (id, from, to, attrs = {}) => {
    const f = moddle.create('bpmn:SequenceFlow', { id, sourceRef: from, targetRef: to, ...attrs });
    (from.outgoing = from.outgoing || []).push(f);
    (to.incoming = to.incoming || []).push(f);
    flows.push(f);
    return f;
  };
  const start = add('bpmn:StartEvent', { id: 'Start_1', name: 'Application received' });
  const receive = add('bpmn:UserTask', { id: 'Receive', name: 'Receive the application' });
  const check = add('bpmn:ServiceTask', { id: 'Check_registry', name: 'Check the registry' });
  const complete = add('bpmn:ExclusiveGateway', { id: 'Complete', name: 'Documents complete?' });
  const split = add('bpmn:ParallelGateway', { id: 'Split' });
  const review = add('bpmn:UserTask', { id: 'Review', name: 'Review the case' });
  const prepare = add('bpmn:UserTask', { id: 'Prepare_letter', name: 'Prepare the letter' });
  const join = add('bpmn:ParallelGateway', { id: 'Join' });
  const granted = add('bpmn:EndEvent', { id: 'Granted', name: 'Benefit granted' });
  const returned = add('bpmn:EndEvent', { id: 'Returned', name: 'Documents returned' });
  const timer = add('bpmn:BoundaryEvent', {
    id: 'Review_deadline', name: '2 hours', attachedToRef: review, cancelActivity: false,
    eventDefinitions: [moddle.create('bpmn:TimerEventDefinition', {
      id: 'Review_timer',
      timeDuration: moddle.create('bpmn:FormalExpression', { body: 'PT2H' })
    })]
  });
  const late = add('bpmn:EndEvent', { id: 'Late', name: 'Deadline breached' });

  flow('F1', start, receive);
  flow('F2', receive, check);
  flow('F3', check, complete);
  const toSplit = flow('F4', complete, split, {
    name: 'complete',
    conditionExpression: moddle.create('bpmn:FormalExpression', { body: 'data.complete == true' })
  });
  const back = flow('F5', complete, returned, { name: 'otherwise' });
  complete.default = back;
  void toSplit;
  flow('F6', split, review);
  flow('F7', split, prepare);
  flow('F8', review, join);
  flow('F9', prepare, join);
  flow('F10', join, granted);
  flow('F11', timer, late);

  if (extra) extra(moddle, add, flow, { receive, check });

  const lanes = [
    moddle.create('bpmn:Lane', {
      id: 'Lane_clerk', name: 'Clerk',
      flowNodeRef: els.filter(e => !['Check_registry'].includes(e.id) && !e.$type.startsWith('bpmn:Data') && e.$type !== 'bpmn:TextAnnotation')
    }),
    moddle.create('bpmn:Lane', { id: 'Lane_registry', name: 'Registry', flowNodeRef: [check] })
  ];
  const proc = moddle.create('bpmn:Process', {
    id: 'Benefit_process', name: 'Benefit', isExecutable: false,
    laneSets: [moddle.create('bpmn:LaneSet', { id: 'LaneSet_1', lanes })],
    flowElements: [...els.filter(e => e.$type !== 'bpmn:TextAnnotation'), ...flows],
    artifacts: els.filter(e => e.$type === 'bpmn:TextAnnotation')
  });
  const participant = moddle.create('bpmn:Participant', { id: 'Benefit_office', name: 'Benefit office', processRef: proc });
  const collaboration = moddle.create('bpmn:Collaboration', { id: 'Collaboration_1', participants: [participant] });
  return moddle.create('bpmn:Definitions', {
    id: 'Definitions_1', targetNamespace: 'http://bpmn.io/schema/bpmn',
    rootElements: [collaboration, proc]
  });
}

const moddle = new BpmnModdle();
const write = async (name, defs) => {
  const { xml } = await moddle.toXML(defs, { format: true });
  await writeFile(join(out, name), xml);
};

await write('supported.bpmn', model(moddle));
await write('unsupported.bpmn', model(moddle, (moddle, add, flow, { receive, check }) => {
  // Between receiving and checking: a sub-process and a wait for a message.
  const sub = add('bpmn:SubProcess', { id: 'Sub_collect', name: 'Collect documents' });
  const wait = add('bpmn:IntermediateCatchEvent', {
    id: 'Wait_reply', name: 'Reply received',
    eventDefinitions: [moddle.create('bpmn:MessageEventDefinition', { id: 'Reply_message' })]
  });
  // Re-route F2 (receive → check) through them.
  const f2 = receive.outgoing[0];
  f2.targetRef = sub;
  check.incoming = [];
  (sub.incoming = []).push(f2);
  flow('F20', sub, wait);
  flow('F21', wait, check);
  const data = add('bpmn:DataObject', { id: 'Case_file' });
  add('bpmn:DataObjectReference', { id: 'Case_file_ref', name: 'Case file', dataObjectRef: data });
  add('bpmn:TextAnnotation', { id: 'Note_1', text: 'Checked weekly' });
}));
